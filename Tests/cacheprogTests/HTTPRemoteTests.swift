import CASBridge
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
    ) async throws -> ProcessRunner.Result {
        try await startBuild(
            output, store: store, remote: remote, gocache: gocache, extraEnvironment: extraEnvironment
        ).result()
    }

    /// Starts the build of `build(…)` and returns at once.
    func startBuild(
        _ output: String, store: String, remote: String?, gocache: String, extraEnvironment: [String: String] = [:]
    ) throws -> RunningProcess {
        var env = GoModuleFixture.baseEnvironment(gocache: work.sub(gocache))
        env["GOCACHEPROG"] =
            "\(TestPaths.cacheprog) --dir \(work.sub(store))" + (remote.map { " --remote \($0)" } ?? "")
        env["CASBRIDGE_STATS_FILE"] = work.sub("\(output).stats.json")
        env.merge(extraEnvironment) { $1 }
        return try RunningProcess(
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
    func warmRemote() async throws {
        let nginx = try await NginxServer()
        let first = try await build("first", store: "storeA", remote: nginx.url, gocache: "gcA")
        try #require(first.status == 0, "\(first.output)")
        #expect(GoModuleFixture.compileCount(first.stderr) >= 4)
        #expect(nginx.stored("ac").count >= 4 && nginx.stored("cas").count >= 4, "the first build populates the remote")

        let second = try await build("second", store: "storeB", remote: nginx.url, gocache: "gcB")
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
        let third = try await build("third", store: "storeC", remote: nginx.url, gocache: "gcC")
        try #require(third.status == 0, "\(third.output)")
        #expect(GoModuleFixture.compileCount(third.stderr) > 0, "corrupted blobs must not be used")
        #expect(try binary("third") == binary("first"))
        let t = try stats("third")
        #expect((t["corruptBlobs"] as? Int ?? 0) > 0, "\(t)")
        let run = try await ProcessRunner.run([work.sub("third")])
        #expect(run.stdout.contains("fixture says 42"))
    }

    @Test("the server killed mid-build: the build still succeeds")
    func killedMidBuild() async throws {
        let nginx = try await NginxServer()
        let build = try startBuild("killed", store: "storeK", remote: nginx.url, gocache: "gcK")
        // Killed once the build has uploaded three blobs, and while it still runs.
        try await Polling.until { nginx.stored("cas").count >= 3 || !build.isRunning }
        #expect(build.isRunning, "the build was still running when nginx was killed")
        nginx.kill9()
        let result = await build.result()
        #expect(result.status == 0, "\(result.output)")
        let remote = try #require(try stats("killed")["remote"] as? [String: Any])
        #expect((remote["errors"] as? Int ?? 0) > 0, "the helper met the dead server: \(remote)")
        let run = try await ProcessRunner.run([work.sub("killed")])
        #expect(run.stdout.contains("fixture says 42"))
    }

    /// A local store that already holds the standard library, so that fault tests only
    /// miss (and ask the remote about) the module's own packages.
    func prewarmedStore(_ name: String) async throws {
        let warm = try await build("prewarm-\(name)", store: name, remote: nil, gocache: "gc-\(name)")
        try #require(warm.status == 0, "\(warm.output)")
    }

    /// Builds the touched module from a prewarmed store against a fault server in `mode`:
    /// the build succeeds within a minute, recompiles, and counts remote errors. Returns the
    /// run's stats and the server's storage directory.
    func buildAgainstFaultServer(_ mode: String, output: String) async throws -> (stats: [String: Any], root: String) {
        let (server, url, root) = try await startFaultServer(mode)
        defer { server.stop() }
        try await prewarmedStore("store-\(output)")
        try touchModule(output)
        let start = Date()
        let result = try await build(output, store: "store-\(output)", remote: url, gocache: "gc-\(output)-b")
        #expect(result.status == 0, "\(result.output)")
        #expect(GoModuleFixture.compileCount(result.stderr) >= 1)
        #expect(Date().timeIntervalSince(start) < 60)
        let s = try stats(output)
        #expect(((s["remote"] as? [String: Any])?["errors"] as? Int ?? 0) > 0, "\(s)")
        return (s, root)
    }

    @Test("a server answering 500 to everything never fails the build")
    func serverErrors() async throws {
        _ = try await buildAgainstFaultServer("500", output: "e500")
    }

    @Test("a server that accepts and never answers never hangs the build (timeouts + breaker)")
    func hangingServer() async throws {
        // A listening socket nobody accepts from: connections complete (backlog) and hang.
        let (fd, port) = Network.boundSocket()
        defer { close(fd) }
        #expect(listen(fd, 128) == 0)
        try await prewarmedStore("storeHang")
        try touchModule("hang")
        let start = Date()
        let result = try await build(
            "hang", store: "storeHang", remote: "http://127.0.0.1:\(port)", gocache: "gcHangB",
            extraEnvironment: ["CASBRIDGE_REMOTE_TIMEOUT": "2s", "CASBRIDGE_UPLOAD_TIMEOUT": "3s"])
        let elapsed = Date().timeIntervalSince(start)
        #expect(result.status == 0, "\(result.output)")
        #expect(elapsed < 45, "the build took \(elapsed) s")
        let s = try stats("hang")
        #expect(((s["remote"] as? [String: Any])?["errors"] as? Int ?? 0) > 0, "\(s)")
    }

    /// A bazel-remote-layout server over a directory that misbehaves as `mode` says: `500`
    /// answers every request with a server error; `truncate` and `truncate-silent` serve action
    /// entries whole but only the first half of every blob, `truncate` with the full length
    /// declared (the client sees the connection drop), `truncate-silent` delimited by the
    /// connection's end (the client sees a complete, shorter answer); `full` refuses every
    /// upload with 507 Insufficient Storage.
    func startFaultServer(_ mode: String) async throws -> (server: ServerProcess, url: String, root: String) {
        let port = Network.freePort()
        let root = work.sub("fault-\(mode)")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let python = try #require(TestPaths.systemTool("python3"), "python3 not found: run scripts/install-deps.sh")
        let script = """
            import os, sys
            from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
            root, mode = sys.argv[1], sys.argv[2]
            class H(BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"
                def log_message(self, *a): pass
                def target(self):
                    parts = self.path.split("?")[0].strip("/").split("/")
                    if len(parts) != 2 or parts[0] not in ("ac", "cas") or len(parts[1]) != 64: return None
                    return os.path.join(root, parts[0] + "-" + parts[1])
                def empty(self, status):
                    self.send_response(status); self.send_header("Content-Length", "0"); self.end_headers()
                def fail(self):
                    self.send_response(500); self.send_header("Content-Length", "4"); self.end_headers()
                    if self.command != "HEAD": self.wfile.write(b"oops")
                def do_PUT(self):
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    if mode == "500": return self.fail()
                    path = self.target()
                    if path is None: return self.empty(400)
                    if mode == "full": return self.empty(507)
                    with open(path + ".tmp", "wb") as f: f.write(body)
                    os.replace(path + ".tmp", path)
                    self.empty(201)
                def do_HEAD(self):
                    if mode == "500": return self.fail()
                    path = self.target()
                    if path is None or not os.path.exists(path): return self.empty(404)
                    self.send_response(200); self.send_header("Content-Length", str(os.path.getsize(path)))
                    self.end_headers()
                def do_GET(self):
                    if mode == "500": return self.fail()
                    path = self.target()
                    if path is None or not os.path.exists(path): return self.empty(404)
                    body = open(path, "rb").read()
                    self.send_response(200)
                    if mode == "truncate-silent" and self.path.startswith("/cas/"):
                        self.send_header("Connection", "close"); self.end_headers()
                        self.wfile.write(body[: len(body) // 2]); self.close_connection = True
                    elif mode == "truncate" and self.path.startswith("/cas/"):
                        self.send_header("Content-Length", str(len(body))); self.end_headers()
                        self.wfile.write(body[: len(body) // 2]); self.close_connection = True
                    else:
                        self.send_header("Content-Length", str(len(body))); self.end_headers()
                        self.wfile.write(body)
            ThreadingHTTPServer(("127.0.0.1", int(sys.argv[3])), H).serve_forever()
            """
        let server = try ServerProcess(
            name: "http \(mode)", [python, "-c", script, root, mode, "\(port)"], logPath: work.sub("\(mode).log"))
        try await server.waitForPort(port)
        return (server, "http://127.0.0.1:\(port)", root)
    }

    @Test(
        "a server that cuts bodies short never fails the build and never has a cut blob used",
        arguments: ["truncate", "truncate-silent"])
    func truncatedBodies(mode: String) async throws {
        let (server, url, root) = try await startFaultServer(mode)
        defer { server.stop() }
        let tag = mode.replacingOccurrences(of: "-", with: "")
        let first = try await build("\(tag)1", store: "store-\(tag)1", remote: url, gocache: "gc-\(tag)1")
        try #require(first.status == 0, "\(first.output)")
        let stored = try FileManager.default.contentsOfDirectory(atPath: root)
        #expect(stored.filter { $0.hasPrefix("cas-") }.count >= 4, "the first build populates the server")

        let start = Date()
        let second = try await build("\(tag)2", store: "store-\(tag)2", remote: url, gocache: "gc-\(tag)2")
        #expect(second.status == 0, "\(second.output)")
        #expect(Date().timeIntervalSince(start) < 120)
        #expect(GoModuleFixture.compileCount(second.stderr) >= 4, "nothing cut short may be used:\n\(second.stderr)")
        #expect(try binary("\(tag)2") == binary("\(tag)1"))
        let s = try stats("\(tag)2")
        // Every blob body is cut: the only hits are outputs that came inline in their action
        // entries, none larger than the inlining limit.
        let hits = s["remoteHits"] as? Int ?? -1
        #expect((s["hitBytes"] as? Int ?? .max) <= hits * Int(InlineBlobs.limit), "\(s)")
        if mode == "truncate" {
            #expect(((s["remote"] as? [String: Any])?["errors"] as? Int ?? 0) > 0, "\(s)")
        } else {
            #expect((s["corruptBlobs"] as? Int ?? 0) > 0, "the cut blobs were fetched and rejected: \(s)")
            let warnings = second.stderr.split(separator: "\n").filter { $0.contains("wrong content") }
            #expect(warnings.count == 1, "the first damaged blob is logged, the others counted: \(warnings)")
        }
        let run = try await ProcessRunner.run([work.sub("\(tag)2")])
        #expect(run.stdout.contains("fixture says 42"))
    }

    @Test("a full server (507 to every upload) never fails or holds up the build")
    func fullServer() async throws {
        let (s, root) = try await buildAgainstFaultServer("full", output: "full")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).isEmpty, "nothing was stored")
        #expect((s["puts"] as? Int ?? 0) >= 1, "\(s)")
        let run = try await ProcessRunner.run([work.sub("full")])
        #expect(run.stdout.contains("fixture says 42"))
    }
}
