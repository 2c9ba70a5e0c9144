import CASBridgeTestSupport
import Foundation
import Testing

extension ProtocolTests {
    @Test(
        "every spelling of the helper's flags works: serve, --flag=value, -v",
        arguments: [["serve"], ["--verbose"], ["serve", "-v", "--upload-timeout=3s"], ["--trim-interval", "0", "-v"]])
    func commandLineSpellings(_ extra: [String]) async throws {
        let statsPath = store.sub("stats-\(extra.count).json")
        let helper = try HelperProcess(arguments: extra + ["--dir=\(store.path)", "--stats-file", statsPath])
        #expect(await helper.readResponse()?["KnownCommands"] != nil)
        helper.sendClose()
        _ = await helper.readResponse()
        #expect(await helper.exitStatus() == 0)
        #expect(FileManager.default.fileExists(atPath: store.sub("v1/index")), "--dir=value was honoured")
        #expect(FileManager.default.fileExists(atPath: statsPath))
        let verbose = extra.contains("-v") || extra.contains("--verbose")
        #expect(helper.stderr.contains("cacheprog: 0 gets") == verbose, "stderr: \(helper.stderr)")
    }

    @Test(
        "a bad command line is reported by the argument parser with a usage error",
        arguments: [
            (["--bogus"], "Unknown option '--bogus'"),
            (["--dir"], "Missing value for '--dir <dir>'"),
            (["--max-size", "lots"], "'lots' is not a size"),
            // Found by fuzz/run.sh flags: trapped converting to Int64 instead.
            (["--max-age", "333333333333333"], "'333333333333333' is not a duration"),
            (["--max-size", "1e300GiB"], "'1e300GiB' is not a size"),
            (["-v=1"], "does not take any value"),
        ])
    func badCommandLine(_ arguments: [String], _ expected: String) async throws {
        let result = try await ProcessRunner.run([TestPaths.cacheprog] + arguments + ["--dir", store.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains(expected), "stderr: \(result.stderr)")
        #expect(!result.stdout.contains("KnownCommands"), "the helper did not start serving")
    }

    @Test("CASBRIDGE_DIRECT_WRITES takes on or off; anything else is refused with the variable's name")
    func directWritesVariable() async throws {
        for value in ["off", "on"] {
            let helper = try HelperProcess(
                arguments: ["--dir", store.path], environment: ["CASBRIDGE_DIRECT_WRITES": value])
            #expect(await helper.readResponse()?["KnownCommands"] != nil)
            helper.sendClose()
            _ = await helper.readResponse()
            #expect(await helper.exitStatus() == 0)
        }
        let result = try await ProcessRunner.run(
            [TestPaths.cacheprog, "--dir", store.path], environment: ["CASBRIDGE_DIRECT_WRITES": "sometimes"])
        #expect(result.status != 0)
        #expect(
            result.stderr.contains("CASBRIDGE_DIRECT_WRITES: 'sometimes' is neither on nor off"), "\(result.stderr)")
        #expect(!result.stdout.contains("KnownCommands"), "the helper did not start serving")
    }

    @Test("--help documents every flag and its environment variable")
    func help() async throws {
        let result = try await ProcessRunner.run([TestPaths.cacheprog, "serve", "--help"])
        #expect(result.status == 0)
        for name in [
            "CASBRIDGE_DIR", "CASBRIDGE_VERBOSE", "CASBRIDGE_STATS_FILE", "CASBRIDGE_STATS_DIR", "CASBRIDGE_REMOTE",
            "CASBRIDGE_REMOTE_MODE",
            "CASBRIDGE_UPLOAD_TIMEOUT", "CASBRIDGE_MAX_SIZE", "CASBRIDGE_MAX_AGE", "CASBRIDGE_TRIM_INTERVAL",
            "CASBRIDGE_SIGNING_KEY_FILE", "CASBRIDGE_SIGNING_KEY", "CASBRIDGE_TRUSTED_KEYS", "CASBRIDGE_TRUST",
        ] {
            #expect(result.stdout.contains(name), "\(name) missing from --help")
        }
        let root = try await ProcessRunner.run([TestPaths.cacheprog, "--help"])
        #expect(root.stdout.contains("trim") && root.stdout.contains("stats") && root.stdout.contains("keygen"))
    }

    @Test("--stats-file and the stats subcommand report the run")
    func statsFile() async throws {
        let statsPath = store.sub("stats.json")
        let helper = try start(["--stats-file", statsPath])
        _ = await helper.readLine()
        let body = Data("x".utf8)
        helper.sendPut(actionID: Array(repeating: 1, count: 32), outputID: SHA256Digest.of(body), body: body)
        _ = await helper.readResponse()
        helper.sendGet(actionID: Array(repeating: 1, count: 32))
        _ = await helper.readResponse()
        helper.sendGet(actionID: Array(repeating: 2, count: 32))
        _ = await helper.readResponse()
        helper.sendClose()
        _ = await helper.readResponse()
        #expect(await helper.exitStatus() == 0)
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: statsPath))) as? [String: Any])
        #expect(json["gets"] as? Int == 2)
        #expect(json["hits"] as? Int == 1)
        #expect(json["misses"] as? Int == 1)
        #expect(json["puts"] as? Int == 1)
        let cpu = try #require(json["cpuSeconds"] as? Double)
        let elapsed = try #require(json["elapsedSeconds"] as? Double)
        #expect(cpu > 0 && cpu < elapsed * 64)
        let stats = try await ProcessRunner.run([TestPaths.cacheprog, "stats", "--dir", store.path, "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])
        #expect(report["entries"] as? Int == 1)
        #expect(report["hits"] as? Int == 1)
    }
}
