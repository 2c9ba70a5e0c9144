import CASBridgeTestSupport
import Foundation
import Testing

/// The real go command building through cacheprog with an HTTP remote (a real nginx in
/// the bazel-remote layout), including the remote failing in every way we can provoke.
@Suite("HTTP remote end to end", .serialized)
struct HTTPRemoteTests {
    let work: TemporaryDirectory
    let module: String
    let go: String

    init() throws {
        go = try #require(TestPaths.go, "no go binary: run scripts/install-deps.sh (or set CASBRIDGE_TEST_GO)")
        work = try TemporaryDirectory("http-e2e")
        module = work.sub("module")
        try GoModuleFixture.write(to: module)
    }

    func build(
        _ output: String, store: String, remote: String?, gocache: String, extraEnvironment: [String: String] = [:]
    ) throws -> ProcessRunner.Result {
        var env = GoModuleFixture.baseEnvironment(gocache: work.sub(gocache))
        env["GOCACHEPROG"] =
            "\(TestPaths.cacheprog) --dir \(work.sub(store))" + (remote.map { " --remote \($0)" } ?? "")
        env["CASBRIDGE_STATS_FILE"] = work.sub("\(output).stats.json")
        env.merge(extraEnvironment) { $1 }
        return try ProcessRunner.run(
            [go, "build", "-x", "-o", work.sub(output), "./cmd/app"], environment: env, directory: module)
    }

    func stats(_ output: String) throws -> [String: Any] { try work.statsJSON("\(output).stats.json") }

    func binary(_ name: String) throws -> Data { try work.contents(name) }

    /// Changes the module's source so that its own packages (not the standard library's)
    /// miss the cache.
    func touchModule(_ tag: String) throws {
        try "package table\n\n// Tag changes the package's ActionID.\nconst Tag = \"\(tag)\"\n"
            .write(toFile: "\(module)/internal/table/tag.go", atomically: true, encoding: .utf8)
    }

    @Test("an empty local store with a warm remote builds with zero compiles; corrupted remote blobs are never used")
    func warmRemote() throws {
        let nginx = try NginxServer()
        let first = try build("first", store: "storeA", remote: nginx.url, gocache: "gcA")
        try #require(first.status == 0, "\(first.output)")
        #expect(GoModuleFixture.compileCount(first.stderr) >= 4)
        #expect(nginx.stored("ac").count >= 4 && nginx.stored("cas").count >= 4, "the first build populates the remote")

        let second = try build("second", store: "storeB", remote: nginx.url, gocache: "gcB")
        try #require(second.status == 0, "\(second.output)")
        #expect(GoModuleFixture.compileCount(second.stderr) == 0, "compiled despite a warm remote:\n\(second.stderr)")
        #expect(try binary("second") == binary("first"))
        let s = try stats("second")
        #expect((s["remoteHits"] as? Int ?? 0) > 0, "\(s)")
        // The first build left a warm manifest: the second fetched its entries without asking the action cache.
        let warm = s["remote"] as? [String: Any]
        #expect((warm?["manifestRecords"] as? Int ?? 0) >= 4, "\(s)")
        #expect((warm?["manifestHits"] as? Int ?? 0) >= 4, "\(s)")
        #expect((warm?["segmentReads"] as? Int ?? 0) >= 1, "small outputs come in segments: \(s)")

        // Overwrite every blob nginx holds with same-sized garbage.
        var corrupted = 0
        for name in nginx.stored("cas") {
            let path = nginx.path("cas", name)
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            try Data(repeating: 0x5A, count: max(size, 1)).write(to: URL(fileURLWithPath: path))
            corrupted += 1
        }
        #expect(corrupted >= 4)
        let third = try build("third", store: "storeC", remote: nginx.url, gocache: "gcC")
        try #require(third.status == 0, "\(third.output)")
        #expect(GoModuleFixture.compileCount(third.stderr) > 0, "corrupted blobs must not be used")
        #expect(try binary("third") == binary("first"))
        let t = try stats("third")
        #expect((t["corruptBlobs"] as? Int ?? 0) > 0, "\(t)")
        let run = try ProcessRunner.run([work.sub("third")])
        #expect(run.stdout.contains("fixture says 42"))
    }

    @Test("the server killed mid-build: the build still succeeds")
    func killedMidBuild() throws {
        let nginx = try NginxServer()
        let killer = Thread {
            let deadline = Date().addingTimeInterval(120)
            while nginx.stored("cas").count < 3 && Date() < deadline { usleep(20_000) }
            nginx.kill9()
        }
        killer.start()
        let result = try build("killed", store: "storeK", remote: nginx.url, gocache: "gcK")
        #expect(result.status == 0, "\(result.output)")
        #expect(!nginx.server.process.isRunning, "nginx was killed during the build")
        let run = try ProcessRunner.run([work.sub("killed")])
        #expect(run.stdout.contains("fixture says 42"))
    }

    /// A local store that already holds the standard library, so that fault tests only
    /// miss (and ask the remote about) the module's own packages.
    func prewarmedStore(_ name: String) throws {
        let warm = try build("prewarm-\(name)", store: name, remote: nil, gocache: "gc-\(name)")
        try #require(warm.status == 0, "\(warm.output)")
    }

    @Test("a server answering 500 to everything never fails the build")
    func serverErrors() throws {
        let port = Network.freePort()
        let python = try #require(TestPaths.systemTool("python3"), "python3 not found: run scripts/install-deps.sh")
        let script = """
            import sys
            from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
            class H(BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"
                def log_message(self, *a): pass
                def fail(self):
                    n = int(self.headers.get("Content-Length") or 0)
                    if n: self.rfile.read(n)
                    self.send_response(500); self.send_header("Content-Length", "4"); self.end_headers()
                    if self.command != "HEAD": self.wfile.write(b"oops")
                do_GET = do_HEAD = do_PUT = fail
            ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
            """
        let server = try ServerProcess(
            name: "http 500", [python, "-c", script, "\(port)"], logPath: work.sub("500.log"))
        defer { server.stop() }
        try server.waitForPort(port)
        try prewarmedStore("store500")
        try touchModule("500")
        let start = Date()
        let result = try build("e500", store: "store500", remote: "http://127.0.0.1:\(port)", gocache: "gc500b")
        #expect(result.status == 0, "\(result.output)")
        #expect(GoModuleFixture.compileCount(result.stderr) >= 1)
        #expect(Date().timeIntervalSince(start) < 60)
        let s = try stats("e500")
        #expect(((s["remote"] as? [String: Any])?["errors"] as? Int ?? 0) > 0, "\(s)")
    }

    @Test("a server that accepts and never answers never hangs the build (timeouts + breaker)")
    func hangingServer() throws {
        // A listening socket nobody accepts from: connections complete (backlog) and hang.
        let (fd, port) = Network.boundSocket()
        defer { close(fd) }
        #expect(listen(fd, 128) == 0)
        try prewarmedStore("storeHang")
        try touchModule("hang")
        let start = Date()
        let result = try build(
            "hang", store: "storeHang", remote: "http://127.0.0.1:\(port)", gocache: "gcHangB",
            extraEnvironment: ["CASBRIDGE_REMOTE_TIMEOUT": "2s", "CASBRIDGE_UPLOAD_TIMEOUT": "3s"])
        let elapsed = Date().timeIntervalSince(start)
        #expect(result.status == 0, "\(result.output)")
        #expect(elapsed < 45, "the build took \(elapsed) s")
        let s = try stats("hang")
        #expect(((s["remote"] as? [String: Any])?["errors"] as? Int ?? 0) > 0, "\(s)")
    }
}
