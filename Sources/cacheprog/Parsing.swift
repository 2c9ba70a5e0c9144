import ArgumentParser

/// Parsing of sizes (`10GiB`, `500M`, `1024`) and durations (`90s`, `12h`, `7d`).
enum Parsing {
    static func size(_ text: String, what: String) throws -> Int64 {
        let t = text.trimmingCharacters(in: " ").lowercased()
        let units: [(String, Int64)] = [
            ("tib", 1 << 40), ("gib", 1 << 30), ("mib", 1 << 20), ("kib", 1 << 10),
            ("tb", 1_000_000_000_000), ("gb", 1_000_000_000), ("mb", 1_000_000), ("kb", 1000),
            ("t", 1 << 40), ("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10), ("b", 1),
        ]
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            if let v = Double(t.dropLast(suffix.count)), v >= 0 { return Int64(v * Double(factor)) }
            break
        }
        if let v = Int64(t), v >= 0 { return v }
        throw ValidationError("\(what): '\(text)' is not a size (examples: 512MiB, 10GiB, 2000000)")
    }

    /// A duration in nanoseconds.
    /// `on`/`off` (also `1`/`0`, `true`/`false`, `yes`/`no`).
    static func toggle(_ text: String, what: String) throws -> Bool {
        switch text.lowercased() {
        case "on", "1", "true", "yes": return true
        case "off", "0", "false", "no": return false
        default: throw ValidationError("\(what): '\(text)' is neither on nor off")
        }
    }

    static func duration(_ text: String, what: String) throws -> Int64 {
        let t = text.trimmingCharacters(in: " ").lowercased()
        let units: [(String, Double)] = [
            ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9), ("d", 86400e9), ("w", 7 * 86400e9),
        ]
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            if let v = Double(t.dropLast(suffix.count)), v >= 0 { return Int64(v * factor) }
        }
        if let v = Double(t), v >= 0 { return Int64(v * 1e9) }
        throw ValidationError("\(what): '\(text)' is not a duration (examples: 30s, 12h, 7d)")
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
