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
    public init() {}

    /// Decodes `input`, calling `emit` with decoded bytes. Returns false on invalid input.
    public mutating func decode(
        _ input: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows -> Bool {
        // A quantum carried over from the previous chunk adds at most 3 bytes.
        let needed = input.count / 4 * 3 + 3
        if output.count < needed { output = [UInt8](repeating: 0, count: needed) }
        var state = (quantum: quantum, count: count, padding: padding, finished: finished)
        var valid = true
        let produced = output.withUnsafeMutableBufferPointer { out in
            Base64.table.withUnsafeBufferPointer { t in
                var n = 0
                var i = 0
                let end = input.count
                while i < end {
                    if state.count == 0 && state.padding == 0 && !state.finished {
                        // Whole quanta of alphabet characters, four at a time.
                        while i + 4 <= end {
                            let a = t[Int(input[i])]
                            let b = t[Int(input[i + 1])]
                            let c = t[Int(input[i + 2])]
                            let d = t[Int(input[i + 3])]
                            if a | b | c | d >= 64 { break }
                            Base64StreamDecoder.store(
                                UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d), into: out, at: n)
                            n += 3
                            i += 4
                        }
                        if i == end { break }
                    }
                    let v = t[Int(input[i])]
                    i += 1
                    if v < 64 {
                        if state.padding > 0 || state.finished {
                            valid = false
                            break
                        }
                        state.quantum = state.quantum << 6 | UInt32(v)
                        state.count += 1
                        if state.count == 4 {
                            Base64StreamDecoder.store(state.quantum, into: out, at: n)
                            n += 3
                            state.quantum = 0
                            state.count = 0
                        }
                    } else if v == Base64.pad {
                        // Padding may only complete a quantum of 2 or 3 characters.
                        if state.finished || state.count + state.padding < 2 {
                            valid = false
                            break
                        }
                        state.padding += 1
                        if state.count + state.padding == 4 {
                            if state.count == 2 {
                                out[n] = UInt8(truncatingIfNeeded: state.quantum >> 4)
                                n += 1
                            } else if state.count == 3 {
                                out[n] = UInt8(truncatingIfNeeded: state.quantum >> 10)
                                out[n + 1] = UInt8(truncatingIfNeeded: state.quantum >> 2)
                                n += 2
                            }
                            state.quantum = 0
                            state.count = 0
                            state.finished = true
                        }
                    } else {
                        valid = false
                        break
                    }
                }
                return n
            }
        }
        (quantum, count, padding, finished) = state
        if produced > 0 { try output.withUnsafeBytes { try emit(UnsafeRawBufferPointer(rebasing: $0[..<produced])) } }
        return valid
    }

    /// Writes the three bytes of a full 24-bit quantum at `out[n]`.
    @inline(__always)
    private static func store(_ quantum: UInt32, into out: UnsafeMutableBufferPointer<UInt8>, at n: Int) {
        out[n] = UInt8(truncatingIfNeeded: quantum >> 16)
        out[n + 1] = UInt8(truncatingIfNeeded: quantum >> 8)
        out[n + 2] = UInt8(truncatingIfNeeded: quantum)
    }

    /// Ends the input. Returns false if the input stopped inside a quantum: Go always
    /// pads, so an unpadded tail is a truncated body.
    public mutating func finish() -> Bool {
        finished || (padding == 0 && count == 0)
    }
}
