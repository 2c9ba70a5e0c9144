/// One key as Nix writes it: `NAME:base64`, the name of the key, a colon and its bytes.
/// Key names are 1 to 128 characters of letters, digits, `.`, `_` and `-` (so they
/// make file names, as `cacheprog keygen NAME` does).
package struct KeyLine: Sendable {
    /// The key's name.
    package var name: String
    /// The decoded bytes.
    package var bytes: [UInt8]

    /// Parses a line (surrounding white space ignored). The error says what is wrong and
    /// never quotes the line, which may hold a secret.
    package init(parsing line: some StringProtocol) throws(KeyLineError) {
        let text = line.trimmingWhitespace
        guard let colon = text.firstIndex(of: ":") else { throw .noColon }
        let name = String(text[..<colon])
        guard Self.isValidName(name) else { throw .badName }
        guard let bytes = Base64.decode(Array(text[text.index(after: colon)...].utf8)) else { throw .badBase64 }
        self.name = name
        self.bytes = bytes
    }

    /// Whether `name` can name a key.
    package static func isValidName(_ name: String) -> Bool {
        (1...128).contains(name.utf8.count)
            && name.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                    || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
            }
    }

    /// The line for `name` and `bytes`.
    package static func format(name: String, bytes: [UInt8]) -> String {
        "\(name):\(Base64.encode(bytes))"
    }
}

/// Why a key line could not be read.
package enum KeyLineError: Error, CustomStringConvertible {
    case noColon, badName, badBase64

    package var description: String {
        switch self {
        case .noColon: "not NAME:base64 (no colon)"
        case .badName: "the key name must be 1 to 128 letters, digits, '.', '_' or '-'"
        case .badBase64: "the key is not valid base64"
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing white space.
    var trimmingWhitespace: Substring {
        let s = Substring(self)
        guard let first = s.firstIndex(where: { !$0.isWhitespace }),
            let last = s.lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return s[first...last]
    }
}
