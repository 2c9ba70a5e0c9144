/// A SHA-256 digest: the address of a blob in a content-addressed store.
///
/// Go's OutputID is the SHA-256 of an output, so it is a `Digest`; Go's ActionID is
/// also 32 bytes and is carried in the same type.
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The number of bytes in a digest.
    public static let byteCount = 32

    @usableFromInline var w0: UInt64
    @usableFromInline var w1: UInt64
    @usableFromInline var w2: UInt64
    @usableFromInline var w3: UInt64

    /// The digest of zero bytes.
    public static let empty = Digest(
        hex: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")!

    /// Creates a digest from exactly 32 bytes, or returns nil for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Digest.byteCount else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        (w0, w1, w2, w3) = words
    }

    /// Creates a digest from a raw 32-byte buffer.
    public init(rawBytes raw: UnsafeRawBufferPointer) {
        precondition(raw.count >= Digest.byteCount)
        w0 = raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        w1 = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        w2 = raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        w3 = raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
    }

    /// Creates a digest from 64 lowercase or uppercase hexadecimal digits.
    public init?(hex: some StringProtocol) {
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        var high: UInt8? = nil
        for c in hex.utf8 {
            guard let v = Digest.hexValue(c) else { return nil }
            if let h = high {
                bytes.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        guard high == nil else { return nil }
        self.init(bytes: bytes)
    }

    /// The 32 bytes of the digest.
    public var bytes: [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    /// Calls `body` with the 32 bytes of the digest.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var words = (w0, w1, w2, w3)
        return try Swift.withUnsafeBytes(of: &words) { try body($0) }
    }

    /// The 64 lowercase hexadecimal digits of the digest.
    public var hex: String {
        withUnsafeBytes { raw in
            String(unsafeUninitializedCapacity: 64) { out in
                let digits: StaticString = "0123456789abcdef"
                digits.withUTF8Buffer { d in
                    for i in 0..<32 {
                        out[2 * i] = d[Int(raw[i] >> 4)]
                        out[2 * i + 1] = d[Int(raw[i] & 0xf)]
                    }
                }
                return 64
            }
        }
    }

    public var description: String { hex }

    public func hash(into hasher: inout Hasher) {
        // The bytes are uniformly distributed already: one word is enough.
        hasher.combine(w0)
    }

    /// Byte-wise order, the order of the hex strings.
    public static func < (lhs: Digest, rhs: Digest) -> Bool {
        if lhs.w0 != rhs.w0 { return lhs.w0.bigEndian < rhs.w0.bigEndian }
        if lhs.w1 != rhs.w1 { return lhs.w1.bigEndian < rhs.w1.bigEndian }
        if lhs.w2 != rhs.w2 { return lhs.w2.bigEndian < rhs.w2.bigEndian }
        return lhs.w3.bigEndian < rhs.w3.bigEndian
    }

    /// The first `bits` bits of the digest (at most 32), as an integer.
    func prefix(bits: Int) -> Int {
        Int(UInt32(truncatingIfNeeded: w0.bigEndian >> 32) >> (32 - bits))
    }

    @inline(__always)
    package static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c &- UInt8(ascii: "A") &+ 10
        default: nil
        }
    }
}
