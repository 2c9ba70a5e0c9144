/// A minimal protocol-buffers decoder: walks the fields of one message, skipping
/// unknown ones. Every method returns nil on malformed input.
struct ProtoReader {
    /// A field's value as it is on the wire.
    enum Value {
        case varint(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed
    }

    private let data: ArraySlice<UInt8>
    private var index: Int

    init(_ data: ArraySlice<UInt8>) {
        self.data = data
        index = data.startIndex
    }

    init(_ data: [UInt8]) { self.init(data[...]) }

    private mutating func readVarint() -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while index < data.endIndex {
            let b = data[index]
            index += 1
            if shift == 63 && b > 1 { return nil }
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift > 63 { return nil }
        }
        return nil
    }

    /// The next field, nil at the end; `.failure` on malformed input.
    mutating func next() -> Result<(field: Int, value: Value), ProtoError>? {
        guard index < data.endIndex else { return nil }
        guard let key = readVarint(), key >> 3 > 0, key >> 3 <= UInt64(Int32.max) else { return .failure(ProtoError()) }
        let field = Int(key >> 3)
        switch key & 7 {
        case 0:
            guard let v = readVarint() else { return .failure(ProtoError()) }
            return .success((field, .varint(v)))
        case 1, 5:
            let width = key & 7 == 1 ? 8 : 4
            guard data.endIndex - index >= width else { return .failure(ProtoError()) }
            index += width
            return .success((field, .fixed))
        case 2:
            guard let n = readVarint(), n <= UInt64(data.endIndex - index) else { return .failure(ProtoError()) }
            let slice = data[index..<index + Int(n)]
            index += Int(n)
            return .success((field, .bytes(slice)))
        default:
            return .failure(ProtoError())
        }
    }

    /// Calls `body` for every field; returns false on malformed input or when `body` does.
    static func forEachField(_ data: ArraySlice<UInt8>, _ body: (Int, Value) -> Bool) -> Bool {
        var reader = ProtoReader(data)
        while let item = reader.next() {
            guard case .success(let (field, value)) = item, body(field, value) else { return false }
        }
        return true
    }
}

/// Malformed protocol-buffers input.
struct ProtoError: Error {}
