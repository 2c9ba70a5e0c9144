import CASBridge
import CASBridgeHTTP
import CASBridgeTestSupport
import Foundation
import Testing

extension TrustTests {
    /// `go build ./cmd/app` of the fixture module through cacheprog with `flags` and `environment`.
    func goBuild(
        _ output: String, store: String, flags: String, environment extra: [String: String]
    ) async throws -> ProcessRunner.Result {
        let go = try #require(TestPaths.go, "no go binary: run scripts/install-deps.sh (or set CASBRIDGE_TEST_GO)")
        let module = work.sub("module")
        if !FileManager.default.fileExists(atPath: module) { try GoModuleFixture.write(to: module) }
        var env = GoModuleFixture.baseEnvironment(gocache: work.sub("gc-\(output)"))
        env["GOCACHEPROG"] = "\(TestPaths.cacheprog) --dir \(work.sub(store)) \(flags)"
        env["CASBRIDGE_STATS_FILE"] = work.sub("\(output).stats.json")
        env["CASBRIDGE_METRICS_FILE"] = work.sub("\(output).prom")
        env.merge(extra) { $1 }
        return try await ProcessRunner.run(
            [go, "build", "-x", "-o", work.sub(output), "./cmd/app"], environment: env, directory: module)
    }

    @Test(
        "go build: a signing writer fills nginx; after a forged manifest record and a poisoned entry, a --trust signed reader builds the same binary"
    )
    func goBuildSigned() async throws {
        let nginx = try await NginxServer()
        let key = try await PoisonedEntryScenario.keygen("ci-1", in: work.sub("go-keys"))
        let written = try await goBuild(
            "writer", store: "writer-store", flags: "--remote \(nginx.url)",
            environment: ["CASBRIDGE_SIGNING_KEY_FILE": key.privatePath])
        try #require(written.status == 0, "\(written.output)")

        // A --trust signed reader of the untouched remote: every hit trusted, the warm manifest's too.
        let trusting = ["CASBRIDGE_TRUST": "signed", "CASBRIDGE_TRUSTED_KEYS": key.publicLine]
        let clean = try await goBuild(
            "clean", store: "clean-store", flags: "--remote \(nginx.url) --remote-mode readonly", environment: trusting)
        try #require(clean.status == 0, "\(clean.output)")
        #expect(GoModuleFixture.compileCount(clean.stderr) == 0, "\(clean.stderr)")
        let cleanStats = try work.statsJSON("clean.stats.json")
        let cleanRemote = try #require(cleanStats["remote"] as? [String: Any])
        #expect((cleanRemote["manifestHits"] as? Int ?? 0) >= 4, "\(cleanStats)")
        #expect(cleanRemote["untrustedEntries"] as? Int == 0, "\(cleanStats)")

        // The attacker: one manifest record now names another output (the entry keeps its old
        // signature), and one action's entry points at another valid blob, unsigned.
        let attacker = try HTTPCacheStore(configuration: RemoteConfiguration(url: nginx.url))
        let manifestID = WarmManifest.actionID(named: "default")
        let signed = try #require(await attacker.entry(for: manifestID))
        var manifest = try WarmManifest(
            decoding: Array(try Data(contentsOf: URL(fileURLWithPath: nginx.path("cas", signed.outputID.hex)))))
        let records = manifest.records
        let outputs = Set(records.map(\.entry.outputID))
        try #require(records.count >= 4 && outputs.count >= 4)
        // Records are in the order the go command asked: the first ones are asked again by the same build.
        let victim = records[0]
        let decoy = try #require(records.first { $0.entry.outputID != victim.entry.outputID })
        let forgedRecord = try #require(manifest.records.lastIndex { $0.entry.outputID != decoy.entry.outputID })
        manifest.records[forgedRecord].entry = decoy.entry
        let forged = manifest.encoded()
        let forgedPath = work.sub("forged-manifest")
        try Data(forged).write(to: URL(fileURLWithPath: forgedPath))
        try await attacker.writeBlob(SHA256.hash(forged), size: Int64(forged.count), from: forgedPath)
        var forgedEntry = ActionEntry(outputID: SHA256.hash(forged), size: Int64(forged.count), time: signed.time)
        forgedEntry.signatures = signed.signatures
        try await attacker.record(forgedEntry, for: manifestID)
        try await attacker.record(
            ActionEntry(outputID: decoy.entry.outputID, size: decoy.entry.size, time: victim.entry.time),
            for: victim.actionID)

        let reader = try await goBuild(
            "reader", store: "reader-store", flags: "--remote \(nginx.url) --remote-mode readonly",
            environment: trusting)
        try #require(reader.status == 0, "\(reader.output)")
        #expect(try work.contents("reader") == work.contents("writer"), "the same binary")
        let stats = try work.statsJSON("reader.stats.json")
        let remote = try #require(stats["remote"] as? [String: Any])
        #expect(remote["untrustedEntries"] as? Int ?? 0 >= 2, "the manifest's entry and the poisoned one: \(stats)")
        #expect(remote["manifestRecords"] as? Int == 0, "the forged manifest was not loaded: \(stats)")
        #expect((stats["remoteHits"] as? Int ?? 0) >= 3, "signed entries still hit: \(stats)")
        #expect(reader.stderr.components(separatedBy: "is not trusted").count == 2, "said once:\n\(reader.stderr)")
        let metrics = try String(contentsOfFile: work.sub("reader.prom"), encoding: .utf8)
        #expect(metrics.contains("cacheprog_remote_untrusted_entries_total{backend=\"http\"}"))

        for name in ["writer", "clean", "reader"] {
            let texts = [
                try String(contentsOfFile: work.sub("\(name).stats.json"), encoding: .utf8),
                try String(contentsOfFile: work.sub("\(name).prom"), encoding: .utf8),
            ]
            for text in texts + [written.output, clean.output, reader.output] {
                #expect(!text.contains(key.secret), "the private key leaked in \(name)'s output")
            }
        }
    }
}
