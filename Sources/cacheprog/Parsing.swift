import ArgumentParser
import CASBridge

/// Flag and environment values (`ValueParsing`), with a usage error naming the flag when one is not valid.
enum Parsing {
    static func size(_ text: String, what: String) throws -> Int64 {
        guard let v = ValueParsing.size(text) else {
            throw ValidationError("\(what): '\(text)' is not a size (examples: 512MiB, 10GiB, 2000000; at most 8EiB)")
        }
        return v
    }

    /// `on`/`off` (also `1`/`0`, `true`/`false`, `yes`/`no`).
    static func toggle(_ text: String, what: String) throws -> Bool {
        guard let v = ValueParsing.toggle(text) else {
            throw ValidationError("\(what): '\(text)' is neither on nor off")
        }
        return v
    }

    /// A duration, to the nanosecond.
    static func duration(_ text: String, what: String) throws -> Duration {
        guard let v = ValueParsing.duration(text) else {
            throw ValidationError("\(what): '\(text)' is not a duration (examples: 30s, 12h, 7d; at most 292 years)")
        }
        return v
    }
}
