/// The Prometheus text exposition format (version 0.0.4) of one run's counters, for
/// `--metrics-file` and `--metrics-push` (a Pushgateway).
public enum PrometheusExposition {
    /// The content type of the text format.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The exposition of `record`: every `RunCounter` of its scopes under its declared family and label, then the
    /// run's gauges, the remote's compression and its latency histograms.
    public static func text(_ record: RunRecord) -> String {
        var out = ""
        var lastFamily = ""
        func sample(_ family: RunCounter.MetricFamily, _ labels: [String], _ value: String) {
            if family.name != lastFamily {
                out += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.type)\n"
                lastFamily = family.name
            }
            out +=
                labels.isEmpty
                ? "\(family.name) \(value)\n" : "\(family.name){\(labels.joined(separator: ","))} \(value)\n"
        }
        func gauge(_ name: String, _ help: String, _ labels: [String], _ value: Double) {
            sample(RunCounter.MetricFamily(name: name, type: "gauge", help: help), labels, number(value))
        }
        func counters(_ scope: RunCounter.Scope, _ labels: [String]) {
            for counter in RunCounter.all(in: scope) {
                let d = counter.declaration
                sample(d.family, labels + (d.label.map { [$0] } ?? []), "\(record[counter])")
            }
        }
        counters(.run, [])
        sample(
            RunCounter.MetricFamily(
                name: "cacheprog_build_seconds_total", type: "counter",
                help: "Seconds from each miss to the put that followed it, summed."), [], number(record.buildSeconds))
        gauge("cacheprog_run_duration_seconds", "How long the helper run took.", [], record.elapsedSeconds)
        if let cpu = record.cpuSeconds {
            gauge("cacheprog_cpu_seconds", "CPU seconds (user and system) the helper used in the run.", [], cpu)
        }
        guard let r = record.remote else { return out }
        let b = "backend=\"\(escape(r.backend))\""
        counters(.remote, [b])
        let c = r.compression ?? CompressionStatistics()
        sample(
            RunCounter.MetricFamily(
                name: "cacheprog_remote_wire_bytes_total", type: "counter",
                help: "Blob bytes on the wire, after compression."), [b], "\(c.wireBytes)")
        sample(
            RunCounter.MetricFamily(
                name: "cacheprog_remote_raw_bytes_total", type: "counter",
                help: "The same blobs' bytes before compression."), [b], "\(c.rawBytes)")
        gauge(
            "cacheprog_remote_compression_ratio", "Raw bytes per wire byte of blob transfers (1 = none).", [b], c.ratio)
        let latency = r.latency ?? [:]
        let name = "cacheprog_remote_request_duration_seconds"
        out += "# HELP \(name) Latency of remote calls by operation.\n# TYPE \(name) histogram\n"
        for op in latency.keys.sorted() {
            let h = latency[op]!
            let labels = "\(b),operation=\"\(escape(op))\""
            for (i, c) in h.cumulative.enumerated() {
                let le = i < LatencyHistogram.bounds.count ? number(LatencyHistogram.bounds[i]) : "+Inf"
                out += "\(name)_bucket{\(labels),le=\"\(le)\"} \(c)\n"
            }
            out += "\(name)_sum{\(labels)} \(number(h.sum))\n"
            out += "\(name)_count{\(labels)} \(h.count)\n"
        }
        return out
    }

    /// A float as Prometheus writes it.
    static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return "\(Int64(v))" }
        return "\(v)"
    }

    /// A label value with backslash, quote and newline escaped.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }
}
