import Foundation

/// Checks text against the Prometheus text exposition format (0.0.4): metric and label
/// names, HELP/TYPE lines before samples, numeric values, and histogram structure
/// (`_bucket` with ascending `le` and cumulative counts ending in `+Inf` = `_count`, `_sum`).
public enum PrometheusTextValidator {
    /// One parsed sample.
    public struct Sample: Sendable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    /// Parses and validates `text`; returns the samples or throws a description of the first problem.
    public static func validate(_ text: String) throws -> [Sample] {
        var types: [String: String] = [:]
        var helped: Set<String> = []
        var samples: [Sample] = []
        let namePattern = try NSRegularExpression(pattern: "^[a-zA-Z_:][a-zA-Z0-9_:]*$")
        func validName(_ s: String) -> Bool {
            namePattern.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
        }
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty { continue }
            func fail(_ why: String) -> ServerError { ServerError("line \(number + 1) '\(line)': \(why)") }
            if line.hasPrefix("# HELP ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1)
                guard let name = parts.first, validName(String(name)) else { throw fail("bad HELP") }
                helped.insert(String(name))
                continue
            }
            if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ")
                guard parts.count == 2, validName(String(parts[0])),
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[1])
                else { throw fail("bad TYPE") }
                guard types[String(parts[0])] == nil else { throw fail("second TYPE for a family") }
                types[String(parts[0])] = String(parts[1])
                continue
            }
            if line.hasPrefix("#") { continue }
            // name{labels} value
            var rest = Substring(line)
            let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
            let name = String(rest[..<nameEnd])
            guard validName(name) else { throw fail("bad metric name") }
            rest = rest[nameEnd...]
            var labels: [String: String] = [:]
            if rest.first == "{" {
                guard let close = rest.lastIndex(of: "}") else { throw fail("unclosed labels") }
                let body = rest[rest.index(after: rest.startIndex)..<close]
                var i = body.startIndex
                while i < body.endIndex {
                    guard let eq = body[i...].firstIndex(of: "=") else { throw fail("label without =") }
                    let key = String(body[i..<eq])
                    guard validName(key), !key.hasPrefix("__") else { throw fail("bad label name '\(key)'") }
                    var j = body.index(after: eq)
                    guard j < body.endIndex, body[j] == "\"" else { throw fail("unquoted label value") }
                    j = body.index(after: j)
                    var value = ""
                    while j < body.endIndex, body[j] != "\"" {
                        if body[j] == "\\" { j = body.index(after: j) }
                        value.append(body[j])
                        j = body.index(after: j)
                    }
                    guard j < body.endIndex else { throw fail("unterminated label value") }
                    labels[key] = value
                    j = body.index(after: j)
                    if j < body.endIndex, body[j] == "," { j = body.index(after: j) }
                    i = j
                }
                rest = rest[rest.index(after: close)...]
            }
            guard rest.first == " " else { throw fail("no value") }
            let valueText = rest.dropFirst().split(separator: " ").first.map(String.init) ?? ""
            let value: Double
            switch valueText {
            case "+Inf": value = .infinity
            case "-Inf": value = -.infinity
            case "NaN": value = .nan
            default:
                guard let v = Double(valueText) else { throw fail("value '\(valueText)' is not a number") }
                value = v
            }
            var family = name
            for suffix in ["_bucket", "_sum", "_count"] where types[name] == nil && name.hasSuffix(suffix) {
                family = String(name.dropLast(suffix.count))
            }
            guard let type = types[family] else { throw fail("sample before its TYPE line") }
            guard helped.contains(family) else { throw fail("family without HELP") }
            if type == "counter" && value < 0 { throw fail("negative counter") }
            if type == "histogram" && family == name { throw fail("histogram sample without _bucket/_sum/_count") }
            samples.append(Sample(name: name, labels: labels, value: value))
        }
        // Histogram structure per label set (without le).
        for (family, type) in types where type == "histogram" {
            var groups: [String: [(le: Double, count: Double)]] = [:]
            var counts: [String: Double] = [:]
            var sums: Set<String> = []
            func key(_ labels: [String: String]) -> String {
                labels.filter { $0.key != "le" }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                    separator: ",")
            }
            for s in samples {
                if s.name == family + "_bucket" {
                    guard let leText = s.labels["le"] else { throw ServerError("\(family)_bucket without le") }
                    let le = leText == "+Inf" ? Double.infinity : Double(leText) ?? .nan
                    groups[key(s.labels), default: []].append((le, s.value))
                } else if s.name == family + "_count" {
                    counts[key(s.labels)] = s.value
                } else if s.name == family + "_sum" {
                    sums.insert(key(s.labels))
                }
            }
            for (k, buckets) in groups {
                guard buckets.map(\.le) == buckets.map(\.le).sorted() else {
                    throw ServerError("\(family){\(k)}: le not ascending")
                }
                guard buckets.map(\.count) == buckets.map(\.count).sorted() else {
                    throw ServerError("\(family){\(k)}: buckets not cumulative")
                }
                guard buckets.last?.le == .infinity else { throw ServerError("\(family){\(k)}: no +Inf bucket") }
                guard counts[k] == buckets.last?.count else {
                    throw ServerError("\(family){\(k)}: +Inf bucket != _count")
                }
                guard sums.contains(k) else { throw ServerError("\(family){\(k)}: no _sum") }
            }
        }
        return samples
    }
}
