/// The hashes a go.sum file pins: `path version[/go.mod] h1:…` lines.
public struct GoSum: Sendable {
    /// Hash by `path version` (module zip) or `path version/go.mod` (its go.mod).
    public var hashes: [String: String] = [:]

    /// Parses go.sum text; malformed lines are ignored (the go command reports them).
    public init(text: String) {
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            let words = line.split(separator: " ")
            guard words.count == 3 else { continue }
            hashes["\(words[0]) \(words[1])"] = String(words[2])
        }
    }
}
