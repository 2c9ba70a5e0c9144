/// Decodes one JSON request line as the go command writes it. Unknown fields are
/// skipped; a line that is not a JSON object of the expected field types is rejected
/// with a message naming what was wrong.
package enum RequestDecoder {
    /// Decodes `line` (without its newline).
    package static func decode(_ line: UnsafeRawBufferPointer) throws(CASError) -> ProgRequest {
        var s = Scanner(bytes: line)
        var request = ProgRequest(id: 0, command: .other(""))
        var sawID = false
        var sawCommand = false
        try s.expect(UInt8(ascii: "{"), "a JSON object")
        s.skipSpace()
        if s.peek() == UInt8(ascii: "}") {
            s.index += 1
        } else {
            while true {
                s.skipSpace()
                let key = try s.string()
                s.skipSpace()
                try s.expect(UInt8(ascii: ":"), "':' after \"\(key)\"")
                s.skipSpace()
                switch key {
                case "ID":
                    request.id = try s.integer(field: key)
                    sawID = true
                case "Command":
                    let name = try s.string(field: key)
                    switch name {
                    case "get": request.command = .get
                    case "put": request.command = .put
                    case "close": request.command = .close
                    default: request.command = .other(name)
                    }
                    sawCommand = true
                case "ActionID":
                    request.actionID = try s.base64(field: key)
                case "OutputID", "ObjectID":
                    request.outputID = try s.base64(field: key)
                case "BodySize":
                    request.bodySize = try s.integer(field: key)
                    guard request.bodySize >= 0 else {
                        throw s.error("BodySize is negative (\(request.bodySize))")
                    }
                default:
                    try s.skipValue()
                }
                s.skipSpace()
                if s.peek() == UInt8(ascii: ",") {
                    s.index += 1
                    continue
                }
                try s.expect(UInt8(ascii: "}"), "',' or '}'")
                break
            }
        }
        s.skipSpace()
        guard s.index == s.bytes.count else { throw s.error("unexpected data after the JSON object") }
        guard sawID else { throw s.error("the request has no \"ID\"") }
        guard sawCommand else { throw s.error("the request has no \"Command\"") }
        return request
    }

    struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

        func error(_ message: String) -> CASError {
            CASError(.malformedInput, "\(message) at byte \(index)")
        }

        mutating func skipSpace() {
            while let c = peek(), c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { index += 1 }
        }

        mutating func expect(_ c: UInt8, _ what: String) throws(CASError) {
            guard peek() == c else {
                throw error("expected \(what), found \(peek().map { describe($0) } ?? "end of line")")
            }
            index += 1
        }

        func describe(_ c: UInt8) -> String {
            (0x20..<0x7F).contains(c) ? "'\(Character(Unicode.Scalar(c)))'" : "byte 0x\(String(c, radix: 16))"
        }

        mutating func integer(field: String) throws(CASError) -> Int64 {
            let start = index
            if peek() == UInt8(ascii: "-") { index += 1 }
            var value: Int64 = 0
            var digits = 0
            while let c = peek(), c >= 48, c <= 57 {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(c - 48))
                guard !o1, !o2 else { throw error("\"\(field)\" is out of range") }
                value = a
                digits += 1
                index += 1
            }
            guard digits > 0 else {
                index = start
                throw error("\"\(field)\" must be an integer")
            }
            if let c = peek(), c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                throw error("\"\(field)\" must be an integer")
            }
            return bytes[start] == UInt8(ascii: "-") ? -value : value
        }

        mutating func base64(field: String) throws(CASError) -> [UInt8]? {
            if matchLiteral("null") { return nil }
            let text = try string(field: field)
            guard let decoded = Base64.decode(Array(text.utf8)) else {
                throw error("\"\(field)\" is not valid base64")
            }
            return decoded
        }

        mutating func matchLiteral(_ literal: StaticString) -> Bool {
            let n = literal.utf8CodeUnitCount
            guard index + n <= bytes.count else { return false }
            for i in 0..<n where bytes[index + i] != literal.utf8Start[i] { return false }
            index += n
            return true
        }

        mutating func string(field: String? = nil) throws(CASError) -> String {
            guard peek() == UInt8(ascii: "\"") else {
                if let field { throw error("\"\(field)\" must be a string") }
                throw error("expected a string, found \(peek().map { describe($0) } ?? "end of line")")
            }
            index += 1
            var out: [UInt8] = []
            while true {
                guard let c = peek() else { throw error("unterminated string") }
                index += 1
                switch c {
                case UInt8(ascii: "\""):
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let e = peek() else { throw error("unterminated string") }
                    index += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard index + 4 <= bytes.count else { throw error("bad \\u escape") }
                        var v: UInt32 = 0
                        for _ in 0..<4 {
                            guard let h = Digest.hexValue(bytes[index]) else { throw error("bad \\u escape") }
                            v = v << 4 | UInt32(h)
                            index += 1
                        }
                        out.append(contentsOf: Array(String(Unicode.Scalar(v).map(Character.init) ?? "\u{FFFD}").utf8))
                    default:
                        throw error("bad escape '\\\(Character(Unicode.Scalar(e)))'")
                    }
                case 0..<0x20:
                    throw error("control character in a string")
                default:
                    out.append(c)
                }
            }
        }

        mutating func skipValue() throws(CASError) {
            guard let c = peek() else { throw error("expected a value, found end of line") }
            switch c {
            case UInt8(ascii: "\""):
                _ = try string()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let close = c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                index += 1
                skipSpace()
                if peek() == close {
                    index += 1
                    return
                }
                while true {
                    skipSpace()
                    if c == UInt8(ascii: "{") {
                        _ = try string()
                        skipSpace()
                        try expect(UInt8(ascii: ":"), "':'")
                        skipSpace()
                    }
                    try skipValue()
                    skipSpace()
                    if peek() == UInt8(ascii: ",") {
                        index += 1
                        continue
                    }
                    try expect(close, "',' or '\(Character(Unicode.Scalar(close)))'")
                    return
                }
            default:
                if matchLiteral("true") || matchLiteral("false") || matchLiteral("null") { return }
                let start = index
                while let d = peek(),
                    (d >= 48 && d <= 57) || d == UInt8(ascii: "-") || d == UInt8(ascii: "+")
                        || d == UInt8(ascii: ".") || d == UInt8(ascii: "e") || d == UInt8(ascii: "E")
                {
                    index += 1
                }
                guard index > start else { throw error("expected a value, found \(describe(c))") }
            }
        }
    }
}
