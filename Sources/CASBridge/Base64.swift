/// Standard base64 (RFC 4648 §4), as Go's `encoding/base64.StdEncoding` writes it.
public enum Base64 {
    static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Decoding table: 0...63 for alphabet bytes, `pad` for `=`, `invalid` otherwise.
    static let table: [UInt8] = {
        var t = [UInt8](repeating: invalid, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        t[Int(UInt8(ascii: "="))] = pad
        return t
    }()
    static let invalid: UInt8 = 0xFF
    static let pad: UInt8 = 0xFE

    /// Appends the padded base64 encoding of `bytes` to `out`.
    public static func encode(_ bytes: some Collection<UInt8>, into out: inout [UInt8]) {
        var it = bytes.makeIterator()
        while let a = it.next() {
            let b = it.next()
            let c = it.next()
            let n = UInt32(a) << 16 | UInt32(b ?? 0) << 8 | UInt32(c ?? 0)
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(b == nil ? UInt8(ascii: "=") : alphabet[Int(n >> 6 & 63)])
            out.append(c == nil ? UInt8(ascii: "=") : alphabet[Int(n & 63)])
        }
    }

    /// The padded base64 encoding of `bytes`.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        var out: [UInt8] = []
        encode(bytes, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes a whole base64 string; nil if it is not valid base64.
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        var decoder = Base64StreamDecoder()
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 4 * 3)
        let ok = Array(text).withUnsafeBytes { raw in
            decoder.decode(raw) { out.append(contentsOf: $0) }
        }
        guard ok, decoder.finish() else { return nil }
        return out
    }
}

/// A streaming base64 decoder: feed it chunks, it emits decoded bytes, and rejects
/// characters outside the alphabet, misplaced padding and truncated input.
public struct Base64StreamDecoder {
    private var quantum: UInt32 = 0
    private var count = 0
    private var padding = 0
    private var finished = false
    private var output: [UInt8] = []

    /// Creates a decoder.
    public init() {
        output.reserveCapacity(3 * (1 << 16))
    }

    /// Decodes `input`, calling `emit` with decoded bytes. Returns false on invalid input.
    public mutating func decode(
        _ input: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows -> Bool {
        let table = Base64.table
        var valid = true
        output.removeAll(keepingCapacity: true)
        table.withUnsafeBufferPointer { t in
            for byte in input {
                let v = t[Int(byte)]
                if v < 64 {
                    if padding > 0 || finished {
                        valid = false
                        return
                    }
                    quantum = quantum << 6 | UInt32(v)
                    count += 1
                    if count == 4 {
                        output.append(UInt8(truncatingIfNeeded: quantum >> 16))
                        output.append(UInt8(truncatingIfNeeded: quantum >> 8))
                        output.append(UInt8(truncatingIfNeeded: quantum))
                        quantum = 0
                        count = 0
                    }
                } else if v == Base64.pad {
                    // Padding may only complete a quantum of 2 or 3 characters.
                    if finished || count + padding < 2 {
                        valid = false
                        return
                    }
                    padding += 1
                    if count + padding == 4 {
                        flushPartial()
                        finished = true
                    }
                } else {
                    valid = false
                    return
                }
            }
        }
        if !output.isEmpty { try output.withUnsafeBytes { try emit($0) } }
        return valid
    }

    /// Ends the input. Returns false if the input stopped inside a quantum: Go always
    /// pads, so an unpadded tail is a truncated body.
    public mutating func finish() -> Bool {
        finished || (padding == 0 && count == 0)
    }

    private mutating func flushPartial() {
        if count == 2 {
            output.append(UInt8(truncatingIfNeeded: quantum >> 4))
        } else if count == 3 {
            output.append(UInt8(truncatingIfNeeded: quantum >> 10))
            output.append(UInt8(truncatingIfNeeded: quantum >> 2))
        }
        quantum = 0
        count = 0
    }
}
