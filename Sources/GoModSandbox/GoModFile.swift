/// The few facts about a go.mod file that the sandbox needs, read without the go command.
public struct GoModFile: Sendable {
    /// The module path from the `module` line, or nil if there is none.
    public var modulePath: String?
    /// The targets of `replace` directives that point at local directories (`./x`,
    /// `../x`, `/abs`), as written. They are not downloaded; their go.mod files take
    /// part in the module graph.
    public var localReplacements: [String] = []

    /// Parses the text of a go.mod file.
    public init(text: String) {
        var inReplaceBlock = false
        var inOtherBlock = false
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            var line = Substring(rawLine)
            if let comment = GoModFile.commentStart(line) { line = line[..<comment] }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = words.first else { continue }
            if inReplaceBlock || inOtherBlock {
                if first == ")" {
                    inReplaceBlock = false
                    inOtherBlock = false
                } else if inReplaceBlock {
                    addReplacement(words)
                }
                continue
            }
            switch first {
            case "module" where words.count >= 2:
                modulePath = GoModFile.unquote(words[1])
            case "replace":
                if words.count == 2 && words[1] == "(" {
                    inReplaceBlock = true
                } else {
                    addReplacement(Array(words.dropFirst()))
                }
            default:
                if words.last == "(" { inOtherBlock = true }
            }
        }
    }

    private mutating func addReplacement(_ words: [String]) {
        guard let arrow = words.firstIndex(of: "=>"), arrow + 1 < words.count else { return }
        let target = GoModFile.unquote(words[arrow + 1])
        // A local path has no version after it and starts like a file path.
        if arrow + 2 == words.count, target.hasPrefix("./") || target.hasPrefix("../") || target.hasPrefix("/") {
            localReplacements.append(target)
        }
    }

    static func commentStart(_ line: Substring) -> Substring.Index? {
        var previousSlash = false
        var i = line.startIndex
        while i < line.endIndex {
            if line[i] == "/" {
                if previousSlash { return line.index(before: i) }
                previousSlash = true
            } else {
                previousSlash = false
            }
            i = line.index(after: i)
        }
        return nil
    }

    static func unquote(_ s: String) -> String {
        if s.count >= 2, (s.hasPrefix("\"") && s.hasSuffix("\"")) || (s.hasPrefix("`") && s.hasSuffix("`")) {
            return String(s.dropFirst().dropLast())
        }
        return s
    }
}
