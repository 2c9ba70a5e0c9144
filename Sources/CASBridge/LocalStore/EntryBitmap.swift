/// One bit per entry of the merged index: the entries a trim drops.
struct EntryBitmap {
    private var words: [UInt64]

    init(count: Int) {
        words = [UInt64](repeating: 0, count: (count + 63) / 64)
    }

    mutating func insert(_ i: Int) {
        words[i / 64] |= 1 << UInt64(i % 64)
    }

    func contains(_ i: Int) -> Bool {
        words[i / 64] & (1 << UInt64(i % 64)) != 0
    }
}
