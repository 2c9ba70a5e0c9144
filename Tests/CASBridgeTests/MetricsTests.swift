import CASBridgeTestSupport
import Testing

@testable import CASBridge

@Suite("Metrics")
struct MetricsTests {
    @Test("latency histograms bucket observations and bound quantiles")
    func histogram() {
        var h = LatencyHistogram()
        for ms in [0.5, 3, 3, 40, 2000, 20000] { h.observe(Duration(seconds: ms / 1000)) }
        #expect(h.count == 6)
        #expect(h.cumulative.last == 6)
        #expect(h.cumulative[0] == 1)  // ≤ 1 ms
        #expect(h.cumulative[2] == 3)  // ≤ 5 ms
        #expect(h.quantileBound(0.5) == 0.005)
        #expect(h.quantileBound(1) == .infinity)
        #expect(abs(h.sum - 22.0465) < 1e-9)
    }

    @Test("the exposition is valid Prometheus text with HELP/TYPE lines and histograms")
    func exposition() throws {
        var s = HelperStatistics.Snapshot()
        s[.gets] = 10
        s[.localHits] = 3
        s[.remoteHits] = 4
        s[.misses] = 3
        s[.remoteMisses] = 3
        s[.bytesDown] = 4096
        s[.bytesUp] = 100
        s[.remoteErrors] = 1
        s.remoteLatency["get_action"] = {
            var h = LatencyHistogram()
            for ms in [2, 4, 30] { h.observe(.milliseconds(ms)) }
            return h
        }()
        s.remoteLatency["read_blob"] = {
            var h = LatencyHistogram()
            h.observe(.milliseconds(200))
            return h
        }()
        s.remoteCompression.add(raw: 4096, wire: 1024)
        let record = RunRecord(s, elapsed: .milliseconds(1250), cpuSeconds: 0.5, remoteName: "s3")
        let text = PrometheusExposition.text(record)
        let samples = try PrometheusTextValidator.validate(text)
        func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
            samples.first { sample in sample.name == name && labels.allSatisfy { l in sample.labels[l.key] == l.value }
            }?.value
        }
        #expect(value("cacheprog_hits_total", ["tier": "remote"]) == 4)
        #expect(value("cacheprog_remote_bytes_total", ["direction": "down", "backend": "s3"]) == 4096)
        #expect(value("cacheprog_remote_compression_ratio") == 4)
        #expect(value("cacheprog_remote_request_duration_seconds_count", ["operation": "get_action"]) == 3)
        #expect(
            value("cacheprog_remote_request_duration_seconds_bucket", ["operation": "get_action", "le": "0.005"]) == 2)
        #expect(
            value("cacheprog_remote_request_duration_seconds_bucket", ["operation": "read_blob", "le": "+Inf"]) == 1)
        #expect(value("cacheprog_run_duration_seconds") == 1.25)
        #expect(value("cacheprog_cpu_seconds") == 0.5)
        #expect(record.summaryLine.hasSuffix("; 1250 ms (CPU 500 ms)"))
        #expect(record.summaryLine.contains("zstd 4.0× on 1 blobs"))
        #expect(record.summaryLine.contains("get_action 3×"))

        // The validator itself rejects broken text.
        #expect(throws: (any Error).self) { try PrometheusTextValidator.validate("no_type_line 1\n") }
        #expect(throws: (any Error).self) {
            try PrometheusTextValidator.validate(
                "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n")
        }
    }
}
