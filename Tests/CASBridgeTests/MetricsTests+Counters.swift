import CASBridgeTestSupport
import Foundation
import Testing

@testable import CASBridge

extension MetricsTests {
    /// A record whose every counter has its own value.
    static func distinctRecord() -> RunRecord {
        var s = HelperStatistics.Snapshot()
        for counter in RunCounter.allCases { s[counter] = Int64(1000 + counter.rawValue) }
        s.buildTime = .milliseconds(1500)
        return RunRecord(s, elapsed: .seconds(2), cpuSeconds: 0.25, remoteName: "http")
    }

    @Test("every counter reaches the stats JSON under its declared key, and the JSON decodes back to the record")
    func everyCounterInJSON() throws {
        let record = Self.distinctRecord()
        let json = try JSONEncoder().encode(record)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        let remote = try #require(object["remote"] as? [String: Any])
        for counter in RunCounter.allCases {
            let d = counter.declaration
            let value = (d.scope == .run ? object : remote)[d.key] as? Int
            #expect(value == 1000 + counter.rawValue, "\(counter) as \(d.key)")
        }
        #expect(object["hits"] as? Int == 1001 + 1002, "hits is local plus remote")
        #expect(object["buildSeconds"] as? Double == 1.5 && remote["backend"] as? String == "http")
        #expect(try JSONDecoder().decode(RunRecord.self, from: json) == record)
    }

    @Test("a run record written before a counter existed decodes with that counter at zero")
    func olderRecord() throws {
        let old = """
            {"time":"2026-12-01T10:00:00Z","elapsedSeconds":0.5,"gets":7,"hits":5,"localHits":5,"remoteHits":0,
             "misses":2,"puts":2,"putErrors":0,"putBytes":10,"hitBytes":20,"corruptBlobs":0,
             "remote":{"backend":"s3","misses":2,"errors":0,"bytesDown":0,"bytesUp":10,"uploads":2,
                       "uploadsSkipped":0,"uploadsDropped":0,"breakerTrips":0}}
            """
        let record = try JSONDecoder().decode(RunRecord.self, from: Data(old.utf8))
        #expect(record[.gets] == 7 && record.hits == 5 && record[.uploads] == 2 && record[.remoteMisses] == 2)
        #expect(record[.builtActions] == 0 && record[.manifestHits] == 0 && record.buildSeconds == 0)
        #expect(record.remote?.backend == "s3")
    }

    @Test("every counter is a Prometheus sample of its declared family and label; keys and samples are unique")
    func everyCounterInPrometheus() throws {
        let record = Self.distinctRecord()
        let samples = try PrometheusTextValidator.validate(PrometheusExposition.text(record))
        var seen = Set<String>()
        for counter in RunCounter.allCases {
            let d = counter.declaration
            let expected = d.label.map { [$0] } ?? []
            let matching = samples.filter { sample in
                sample.name == d.family.name
                    && expected.allSatisfy { label in
                        sample.labels.contains { "\($0.key)=\"\($0.value)\"" == label }
                    }
                    && (d.scope == .run || sample.labels["backend"] == "http")
            }
            #expect(matching.count == 1 && matching.first?.value == Double(1000 + counter.rawValue), "\(counter)")
            #expect(seen.insert("\(d.scope) \(d.key)").inserted, "\(counter): JSON key \(d.key) declared twice")
        }
        #expect(samples.contains { $0.name == "cacheprog_build_seconds_total" && $0.value == 1.5 })
    }

    @Test("without a remote, no remote counter is reported")
    func noRemote() throws {
        var s = HelperStatistics.Snapshot()
        s[.gets] = 3
        let record = RunRecord(s, elapsed: .seconds(1), remoteName: nil)
        let text = PrometheusExposition.text(record)
        #expect(!text.contains("cacheprog_remote_"))
        let object = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(record)) as? [String: Any]
        #expect(object?["remote"] == nil && object?["gets"] as? Int == 3)
        #expect(!record.summaryLine.contains("remote"))
    }
}

extension MetricsTests {
    @Test("docs/operations.md lists every counter's JSON key and Prometheus family")
    func documented() throws {
        let page = String(decoding: try FileSystem.readFile("\(TestPaths.repoRoot)/docs/operations.md"), as: UTF8.self)
        for counter in RunCounter.allCases {
            let d = counter.declaration
            let key = d.scope == .run ? "`\(d.key)`" : "`remote.\(d.key)`"
            #expect(page.contains(key), "\(counter): \(key) not in docs/operations.md")
            #expect(page.contains(d.family.name), "\(counter): \(d.family.name) not in docs/operations.md")
        }
    }
}
