import CASBridgeTestSupport
import Foundation
import Testing

/// What a run reports (stats file, stats directory, `-v` line) is written before close is answered,
/// so a go command whose process group is killed right after it exits loses none of it.
@Suite("the run's report at close")
struct CloseReportTests {
    let work: TemporaryDirectory

    init() throws {
        work = try TemporaryDirectory("close-report")
    }

    /// The JSON files in `directory`, decoded, and the names of anything else there.
    func statsDirectory(_ directory: String) throws -> (runs: [[String: Any]], others: [String]) {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        let runs = try names.filter { $0.hasSuffix(".json") }.map { name in
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)"))
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(name)")
        }
        return (runs, names.filter { !$0.hasSuffix(".json") })
    }

    @Test("stats file, stats directory and -v line exist when close is answered: SIGKILL right after loses nothing")
    func reportPrecedesCloseResponse() async throws {
        let statsFile = work.sub("stats.json")
        let statsDir = work.sub("runs")
        let helper = try HelperProcess(
            arguments: ["--dir", work.sub("store"), "-v", "--stats-file", statsFile, "--stats-dir", statsDir])
        #expect(await helper.readResponse()?["KnownCommands"] != nil)
        let body = Data("output".utf8)
        let actionID = Array(repeating: UInt8(3), count: 32)
        helper.sendGet(actionID: actionID)
        #expect(await helper.readResponse()?["Miss"] as? Bool == true)
        helper.sendPut(actionID: actionID, outputID: SHA256Digest.of(body), body: body)
        #expect(await helper.readResponse()?["Err"] == nil)
        helper.sendGet(actionID: actionID)
        #expect(await helper.readResponse()?["DiskPath"] != nil)
        let closeID = helper.sendClose()
        let closed = try #require(await helper.readResponse())
        // What exists now is what a go command that exits at once leaves; its process group may go with it.
        let statsFileWritten = FileManager.default.fileExists(atPath: statsFile)
        let statsDirWritten = (try? FileManager.default.contentsOfDirectory(atPath: statsDir)) ?? []
        kill(helper.process.processIdentifier, SIGKILL)
        _ = await helper.exitStatus()
        #expect(closed["ID"] as? Int == Int(closeID))
        #expect(statsFileWritten, "the stats file exists when close is answered")
        #expect(statsDirWritten.filter { $0.hasSuffix(".json") }.count == 1, "\(statsDirWritten)")

        let stats = try work.statsJSON("stats.json")
        #expect(stats["gets"] as? Int == 2)
        #expect(stats["hits"] as? Int == 1)
        #expect(stats["misses"] as? Int == 1)
        #expect(stats["puts"] as? Int == 1)
        #expect(stats["builtActions"] as? Int == 1, "the put followed the get that missed")
        #expect((stats["buildSeconds"] as? Double ?? -1) >= 0)
        let (runs, others) = try statsDirectory(statsDir)
        #expect(runs.count == 1)
        #expect(runs.first?["gets"] as? Int == 2)
        #expect(runs.first?["time"] as? String == stats["time"] as? String, "the same record")
        #expect(others.isEmpty, "no temporary files left: \(others)")
        #expect(helper.stderr.contains("cacheprog: 2 gets (1 hits, 1 misses), 1 puts"), "stderr: \(helper.stderr)")
    }

    @Test("--stats-dir and CASBRIDGE_STATS_DIR add one file per run, created with its directory")
    func oneFilePerRun() async throws {
        let statsDir = work.sub("nested/runs")
        for (run, arguments, environment) in [
            (1, ["--stats-dir", statsDir], [:]), (2, [], ["CASBRIDGE_STATS_DIR": statsDir]),
            (3, [], ["CASBRIDGE_STATS_DIR": statsDir]),
        ] {
            let helper = try HelperProcess(
                arguments: ["--dir", work.sub("store")] + arguments, environment: environment)
            _ = await helper.readLine()
            // A put without a get that missed first is not a build the run timed.
            let body = Data("run \(run)".utf8)
            helper.sendPut(
                actionID: Array(repeating: UInt8(run), count: 32), outputID: SHA256Digest.of(body), body: body)
            _ = await helper.readResponse()
            for _ in 0..<run { helper.sendGet(actionID: Array(repeating: UInt8(run), count: 32)) }
            for _ in 0..<run { _ = await helper.readResponse() }
            helper.sendClose()
            _ = await helper.readResponse()
            #expect(await helper.exitStatus() == 0)
        }
        let (runs, others) = try statsDirectory(statsDir)
        #expect(runs.count == 3)
        #expect(others.isEmpty, "\(others)")
        let hits: [Int] = runs.map { $0["hits"] as? Int ?? -1 }
        #expect(hits.sorted() == [1, 2, 3])
        #expect(runs.allSatisfy { $0["builtActions"] as? Int == 0 })
    }

    @Test("a stats directory that cannot be created is reported on stderr; the run still succeeds")
    func unwritableStatsDir() async throws {
        let blocker = work.sub("file")
        #expect(FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8)))
        let helper = try HelperProcess(arguments: ["--dir", work.sub("store"), "--stats-dir", "\(blocker)/runs"])
        _ = await helper.readLine()
        helper.sendClose()
        #expect(await helper.readResponse()?["Err"] == nil)
        #expect(await helper.exitStatus() == 0)
        #expect(helper.stderr.contains("cannot write the run's stats into \(blocker)/runs"), "\(helper.stderr)")
    }
}
