/// The Prometheus text exposition format (version 0.0.4) of one run's counters, for
/// `--metrics-file` and `--metrics-push` (a Pushgateway).
public enum PrometheusExposition {
    /// The content type of the text format.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The exposition of `record`.
    public static func text(_ record: RunRecord) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for s in samples { out += "\(name)\(s.labels) \(s.value)\n" }
        }
        func counter(_ name: String, _ help: String, _ samples: [(String, Int64)]) {
            family(name, "counter", help, samples.map { ($0.0, "\($0.1)") })
        }
        counter("cacheprog_gets_total", "Get requests from the go command.", [("", Int64(record.gets))])
        counter(
            "cacheprog_hits_total", "Gets answered with a hit, by tier.",
            [("{tier=\"local\"}", Int64(record.localHits)), ("{tier=\"remote\"}", Int64(record.remoteHits))])
        counter("cacheprog_misses_total", "Gets answered with a miss.", [("", Int64(record.misses))])
        counter("cacheprog_puts_total", "Put requests from the go command.", [("", Int64(record.puts))])
        counter("cacheprog_put_errors_total", "Puts rejected.", [("", Int64(record.putErrors))])
        counter("cacheprog_put_bytes_total", "Bytes received in puts.", [("", record.putBytes)])
        counter("cacheprog_hit_bytes_total", "Bytes of outputs served on hits.", [("", record.hitBytes)])
        counter(
            "cacheprog_corrupt_blobs_total", "Corrupt blobs detected and not served.",
            [("", Int64(record.corruptBlobs))])
        family(
            "cacheprog_run_duration_seconds", "gauge", "How long the helper run took.",
            [("", number(record.elapsedSeconds))])
        if let cpu = record.cpuSeconds {
            family(
                "cacheprog_cpu_seconds", "gauge", "CPU seconds (user and system) the helper used in the run.",
                [("", number(cpu))])
        }
        guard let r = record.remote else { return out }
        let b = "backend=\"\(escape(r.backend))\""
        counter("cacheprog_remote_misses_total", "Gets the remote answered with a miss.", [("{\(b)}", Int64(r.misses))])
        counter("cacheprog_remote_errors_total", "Remote calls that failed.", [("{\(b)}", Int64(r.errors))])
        counter(
            "cacheprog_remote_bytes_total", "Blob bytes moved to and from the remote (uncompressed).",
            [("{\(b),direction=\"down\"}", r.bytesDown), ("{\(b),direction=\"up\"}", r.bytesUp)])
        counter(
            "cacheprog_remote_uploads_total", "Uploads by outcome.",
            [
                ("{\(b),outcome=\"uploaded\"}", Int64(r.uploads)),
                ("{\(b),outcome=\"skipped\"}", Int64(r.uploadsSkipped)),
                ("{\(b),outcome=\"dropped\"}", Int64(r.uploadsDropped)),
            ])
        counter(
            "cacheprog_remote_breaker_trips_total", "Times the circuit breaker opened.",
            [("{\(b)}", Int64(r.breakerTrips))])
        counter(
            "cacheprog_remote_untrusted_entries_total",
            "Remote entries refused: no valid signature from a trusted key (--trust signed).",
            [("{\(b)}", Int64(r.untrustedEntries ?? 0))])
        let c = r.compression ?? CompressionStatistics()
        counter(
            "cacheprog_remote_wire_bytes_total", "Blob bytes on the wire, after compression.", [("{\(b)}", c.wireBytes)]
        )
        counter(
            "cacheprog_remote_raw_bytes_total", "The same blobs' bytes before compression.", [("{\(b)}", c.rawBytes)])
        family(
            "cacheprog_remote_compression_ratio", "gauge", "Raw bytes per wire byte of blob transfers (1 = none).",
            [("{\(b)}", number(c.ratio))])
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
