/// Parsing of the values of flags and environment variables: sizes (`10GiB`, `500M`, `1024`),
/// durations (`90s`, `12h`, `7d`) and on/off switches. nil when the text is not one; the
/// caller names the flag in its error. Values beyond Int64 (`1e300GiB`, `inf`) are not ones either.
/// In the core so the fuzz targets reach it.
package enum ValueParsing {
    /// A size in bytes.
    package static func size(_ text: String) -> Int64? {
        let t = trimmingSpaces(text).lowercased()
        let units: [(String, Int64)] = [
            ("tib", 1 << 40), ("gib", 1 << 30), ("mib", 1 << 20), ("kib", 1 << 10),
            ("tb", 1_000_000_000_000), ("gb", 1_000_000_000), ("mb", 1_000_000), ("kb", 1000),
            ("t", 1 << 40), ("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10), ("b", 1),
        ]
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            if let v = Double(t.dropLast(suffix.count)) { return whole(v * Double(factor)) }
            break
        }
        if let v = Int64(t), v >= 0 { return v }
        return nil
    }

    /// A duration, to the nanosecond.
    package static func duration(_ text: String) -> Duration? {
        nanoseconds(text).map { .nanoseconds($0) }
    }

    private static func nanoseconds(_ text: String) -> Int64? {
        let t = trimmingSpaces(text).lowercased()
        let units: [(String, Double)] = [
            ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9), ("d", 86400e9), ("w", 7 * 86400e9),
        ]
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            if let v = Double(t.dropLast(suffix.count)) { return whole(v * factor) }
        }
        return Double(t).flatMap { whole($0 * 1e9) }
    }

    /// `on`/`off` (also `1`/`0`, `true`/`false`, `yes`/`no`).
    package static func toggle(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "on", "1", "true", "yes": return true
        case "off", "0", "false", "no": return false
        default: return nil
        }
    }

    /// `value` as a whole number, nil unless it is in 0...Int64.max (nan and infinities are not).
    private static func whole(_ value: Double) -> Int64? {
        guard value >= 0, value < 0x1p63 else { return nil }
        return Int64(value)
    }

    private static func trimmingSpaces(_ text: String) -> String {
        var s = Substring(text)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
