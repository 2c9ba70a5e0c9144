import CASBridge

/// The sections of an INI file such as `~/.aws/credentials`: `[name]` headers,
/// `key = value` lines, `#` and `;` comments. Keys are lowercased; later keys win.
public struct INIFile: Sendable, Equatable {
    /// Section name → key → value.
    public var sections: [String: [String: String]] = [:]

    /// Parses `text`. Lines that are neither headers nor `key = value` are ignored, as are
    /// indented continuation lines (nested settings such as `s3 =` blocks).
    public init(parsing text: String) {
        var current: String? = nil
        for rawLine in text.split(
            omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
        {
            let indented = rawLine.first == " " || rawLine.first == "\t"
            let line = rawLine.trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard let close = line.firstIndex(of: "]") else {
                    current = nil
                    continue
                }
                current = String(line[line.index(after: line.startIndex)..<close]).trimmingSpaces
                if let name = current, sections[name] == nil { sections[name] = [:] }
                continue
            }
            guard !indented, let section = current, let eq = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<eq]).trimmingSpaces.lowercased()
            var value = String(line[line.index(after: eq)...]).trimmingSpaces
            // An inline comment needs whitespace before it.
            for marker in [" #", " ;", "\t#", "\t;"] {
                if let r = value.firstRange(of: marker) { value = String(value[..<r.lowerBound]).trimmingSpaces }
            }
            if !key.isEmpty { sections[section, default: [:]][key] = value }
        }
    }

    /// Reads and parses the file at `path`; nil when it cannot be read.
    public init?(path: String) {
        guard let bytes = try? FileSystem.readFile(path) else { return nil }
        self.init(parsing: String(decoding: bytes, as: UTF8.self))
    }

    /// The keys of `section`, or nil when there is no such section.
    public subscript(section: String) -> [String: String]? { sections[section] }
}

extension StringProtocol {
    /// The string without leading and trailing spaces and tabs.
    fileprivate var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = lastIndex(where: { !isSpace($0) })!
        return String(self[start...end])
    }
}
