/// One response from the helper to the go command (`cmd/go/internal/cacheprog.Response`),
/// encoded by hand as one JSON line.
public enum ProgResponse: Equatable, Sendable {
    /// The first message: the commands this helper serves.
    case capabilities([String])
    /// A get hit, or the answer to a put.
    case found(id: Int64, entry: ActionEntry, diskPath: String)
    /// A get miss.
    case miss(id: Int64)
    /// A successful close.
    case closed(id: Int64)
    /// A failed request.
    case failure(id: Int64, message: String)

    /// Appends the response and its newline to `out`.
    public func encode(into out: inout [UInt8]) {
        func append(_ s: StaticString) {
            s.withUTF8Buffer { out.append(contentsOf: $0) }
        }
        func number(_ v: Int64) { out.append(contentsOf: String(v).utf8) }
        switch self {
        case .capabilities(let commands):
            append("{\"ID\":0,\"KnownCommands\":[")
            for (i, c) in commands.enumerated() {
                if i > 0 { append(",") }
                JSONString.append(c, to: &out)
            }
            append("]}")
        case .found(let id, let entry, let diskPath):
            append("{\"ID\":")
            number(id)
            append(",\"OutputID\":\"")
            entry.outputID.withUnsafeBytes { Base64.encode($0, into: &out) }
            append("\"")
            if entry.size != 0 {
                append(",\"Size\":")
                number(entry.size)
            }
            append(",\"Time\":\"")
            entry.time.appendRFC3339(to: &out)
            append("\",\"DiskPath\":")
            JSONString.append(diskPath, to: &out)
            append("}")
        case .miss(let id):
            append("{\"ID\":")
            number(id)
            append(",\"Miss\":true}")
        case .closed(let id):
            append("{\"ID\":")
            number(id)
            append("}")
        case .failure(let id, let message):
            append("{\"ID\":")
            number(id)
            append(",\"Err\":")
            JSONString.append(message.isEmpty ? "error" : message, to: &out)
            append("}")
        }
        out.append(UInt8(ascii: "\n"))
    }
}

/// JSON string escaping.
public enum JSONString {
    /// Appends `s` as a quoted JSON string to `out`.
    public static func append(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case UInt8(ascii: "\n"): out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 15)]])
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `s` as a quoted JSON string.
    public static func quote(_ s: String) -> String {
        var out: [UInt8] = []
        append(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
