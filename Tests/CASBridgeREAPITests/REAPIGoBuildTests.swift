import CASBridge
import CASBridgeTestSupport
import Foundation
import Testing

/// The real go command building through cacheprog with a BuildGrid remote.
@Suite("go builds with a REAPI remote", .serialized)
struct REAPIGoBuildTests {
    let work: TemporaryDirectory
    let module: String
    let go: String

    init() throws {
        go = try #require(TestPaths.go, "no go binary: run scripts/install-deps.sh (or set CASBRIDGE_TEST_GO)")
        work = try TemporaryDirectory("reapi-go")
        module = work.sub("module")
        try GoModuleFixture.write(to: module)
    }

    func goBuild(_ output: String, store: String, remote: String, gocache: String) async throws -> ProcessRunner.Result
    {
        try await startGoBuild(output, store: store, remote: remote, gocache: gocache).result()
    }

    /// Starts the build of `goBuild(…)` and returns at once.
    func startGoBuild(_ output: String, store: String, remote: String, gocache: String) throws -> RunningProcess {
        var env = GoModuleFixture.baseEnvironment(gocache: work.sub(gocache))
        env["GOCACHEPROG"] = "\(TestPaths.cacheprog) --dir \(work.sub(store)) --remote \(remote)"
        env["CASBRIDGE_UPLOAD_TIMEOUT"] = "120s"
        env["CASBRIDGE_STATS_FILE"] = work.sub("\(output).stats.json")
        return try RunningProcess(
            [go, "build", "-x", "-o", work.sub(output), "./cmd/app"], environment: env, directory: module)
    }

    func stats(_ output: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: work.sub("\(output).stats.json")))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("cold build uploads; a warm build from an empty local store compiles nothing")
    func coldThenWarm() async throws {
        let server = try await BuildGridServer.shared()
        let cold = try await goBuild("cold", store: "store-cold", remote: server.url, gocache: "gc-cold")
        #expect(cold.status == 0, "\(cold.output)")
        #expect(GoModuleFixture.compileCount(cold.stderr) >= 4, "the cold build compiles")

        let warm = try await goBuild("warm", store: "store-warm", remote: server.url, gocache: "gc-warm")
        #expect(warm.status == 0, "\(warm.output)")
        #expect(GoModuleFixture.compileCount(warm.stderr) == 0, "warm build compiled:\n\(warm.stderr)")
        let a = try Data(contentsOf: URL(fileURLWithPath: work.sub("cold")))
        let b = try Data(contentsOf: URL(fileURLWithPath: work.sub("warm")))
        #expect(a == b)
        #expect(try await ProcessRunner.run([work.sub("warm")]).stdout.contains("fixture says 42"))
        let coldRemote = try #require(try stats("cold")["remote"] as? [String: Any])
        #expect(coldRemote["backend"] as? String == "grpc")
        #expect((coldRemote["uploads"] as? Int ?? 0) > 0, "\(coldRemote)")
        #expect(coldRemote["uploadsDropped"] as? Int == 0, "\(coldRemote)")
        let report = try stats("warm")
        #expect((report["remoteHits"] as? Int ?? 0) > 0, "\(report)")
        #expect(((report["remote"] as? [String: Any])?["manifestHits"] as? Int ?? 0) >= 4, "warm manifest: \(report)")
        #expect(((report["remote"] as? [String: Any])?["segmentReads"] as? Int ?? 0) >= 1, "segments: \(report)")
    }

    @Test("the server stopped in the middle of a build: the build still succeeds")
    func serverStoppedMidBuild() async throws {
        let server = try await BuildGridServer()
        let build = try startGoBuild("mid", store: "store-mid", remote: server.url, gocache: "gc-mid")
        // Each compile follows a miss the helper asked the remote about (the local store is
        // empty): after the third, the helper has made at least three remote requests.
        let compiling = await build.waitForStderr { GoModuleFixture.compileCount($0) >= 3 }
        #expect(compiling, "the build compiled three packages")
        #expect(build.isRunning, "the build was still running when the server was killed")
        server.kill9()
        let result = await build.result()
        #expect(result.status == 0, "\(result.output)")
        let remote = try #require(try stats("mid")["remote"] as? [String: Any])
        #expect((remote["misses"] as? Int ?? 0) >= 3, "the remote was asked before the kill: \(remote)")
        #expect((remote["errors"] as? Int ?? 0) > 0, "the helper met the dead server: \(remote)")
        #expect(try await ProcessRunner.run([work.sub("mid")]).stdout.contains("fixture says 42"))

        // With the server gone, a build from an empty local store still works.
        let after = try await goBuild("after", store: "store-after", remote: server.url, gocache: "gc-after")
        #expect(after.status == 0, "\(after.output)")
    }
}
