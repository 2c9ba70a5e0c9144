import CASBridge
import CASBridgeHTTP
import CASBridgeS3
import CASBridgeTestSupport
import Foundation
import Testing

/// The real go command building through cacheprog with an S3 remote: a real SeaweedFS
/// that checks signatures.
@Suite("S3 remote end to end", .serialized)
struct S3RemoteTests {
    let work: TemporaryDirectory
    let module: String
    let go: String

    init() throws {
        go = try #require(TestPaths.go, "no go binary: run scripts/install-deps.sh (or set CASBRIDGE_TEST_GO)")
        work = try TemporaryDirectory("s3-e2e")
        module = work.sub("module")
        try GoModuleFixture.write(to: module)
    }

    /// Starts SeaweedFS and creates the bucket `casbridge` with a signed PUT Bucket.
    func startSeaweed() async throws -> SeaweedFSServer {
        let server = try await SeaweedFSServer()
        let location = try S3Location(
            url: "s3://casbridge?endpoint=\(server.endpoint)",
            environment: AWSEnvironment(home: "/nonexistent", variables: [:]))
        let store = S3Store(
            location: location,
            credentials: AWSCredentials(accessKeyID: server.accessKey, secretAccessKey: server.secretKey),
            client: HTTPClient(options: HTTPClient.Options()))
        try await server.server.retryWhileStarting("create the bucket") { try await store.createBucket() }
        return server
    }

    func build(
        _ output: String, store: String, server: SeaweedFSServer?, secret: String? = nil, gocache: String,
        extra: [String: String] = [:]
    ) async throws -> ProcessRunner.Result {
        var env = GoModuleFixture.baseEnvironment(gocache: work.sub(gocache))
        var prog = "\(TestPaths.cacheprog) --dir \(work.sub(store))"
        if let server {
            prog += " --remote s3://casbridge/ci/go?endpoint=\(server.endpoint)"
            env["AWS_ACCESS_KEY_ID"] = server.accessKey
            env["AWS_SECRET_ACCESS_KEY"] = secret ?? server.secretKey
            env["AWS_CONFIG_FILE"] = work.sub("no-aws-config")
            env["AWS_SHARED_CREDENTIALS_FILE"] = work.sub("no-aws-credentials")
        }
        env["GOCACHEPROG"] = prog
        env["CASBRIDGE_STATS_FILE"] = work.sub("\(output).stats.json")
        env.merge(extra) { $1 }
        return try await ProcessRunner.run(
            [go, "build", "-x", "-o", work.sub(output), "./cmd/app"], environment: env, directory: module)
    }

    func stats(_ output: String) throws -> [String: Any] { try work.statsJSON("\(output).stats.json") }

    func binary(_ name: String) throws -> Data { try work.contents(name) }

    @Test("populate SeaweedFS from one store; an empty store with the warm remote builds with zero compiles")
    func warmRemote() async throws {
        let server = try await startSeaweed()
        defer { server.stop() }
        let first = try await build("first", store: "storeA", server: server, gocache: "gcA")
        try #require(first.status == 0, "\(first.output)")
        #expect(GoModuleFixture.compileCount(first.stderr) >= 4)
        let f = try stats("first")
        let fr = f["remote"] as? [String: Any] ?? [:]
        #expect(fr["backend"] as? String == "s3")
        #expect((fr["uploads"] as? Int ?? 0) >= 4, "\(f)")
        #expect((fr["errors"] as? Int ?? -1) == 0, "\(f)")
        #expect((fr["uploadsDropped"] as? Int ?? -1) == 0, "\(f)")

        let metricsFile = work.sub("second.prom")
        let second = try await build(
            "second", store: "storeB", server: server, gocache: "gcB", extra: ["CASBRIDGE_METRICS_FILE": metricsFile])
        try #require(second.status == 0, "\(second.output)")
        #expect(GoModuleFixture.compileCount(second.stderr) == 0, "compiled despite a warm remote:\n\(second.stderr)")
        #expect(try binary("second") == binary("first"))
        let s = try stats("second")
        #expect((s["remoteHits"] as? Int ?? 0) >= 4, "\(s)")
        #expect(((s["remote"] as? [String: Any])?["manifestHits"] as? Int ?? 0) >= 4, "the warm manifest: \(s)")
        #expect(((s["remote"] as? [String: Any])?["segmentReads"] as? Int ?? 0) >= 1, "segments: \(s)")
        let run = try await ProcessRunner.run([work.sub("second")])
        #expect(run.stdout.contains("fixture says 42"))

        // The last go command's helper wrote the metrics file: valid exposition with real values.
        let text = try String(contentsOfFile: metricsFile, encoding: .utf8)
        let samples = try PrometheusTextValidator.validate(text)
        func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
            samples.first { sample in sample.name == name && labels.allSatisfy { l in sample.labels[l.key] == l.value }
            }?.value ?? -1
        }
        #expect(value("cacheprog_hits_total", ["tier": "remote"]) >= 4, "\(text)")
        #expect(value("cacheprog_remote_bytes_total", ["backend": "s3", "direction": "down"]) > 0, "\(text)")
        // Entries came through the warm manifest: one action lookup (the manifest's) instead of one per get.
        #expect(value("cacheprog_remote_request_duration_seconds_count", ["operation": "get_action"]) >= 1, "\(text)")
        #expect(value("cacheprog_remote_request_duration_seconds_count", ["operation": "read_blob"]) >= 4, "\(text)")
        #expect(value("cacheprog_remote_compression_ratio", ["backend": "s3"]) > 1, "Go archives compress: \(text)")
        let r = s["remote"] as? [String: Any] ?? [:]
        #expect(r["latency"] != nil && r["compression"] != nil, "\(s)")
    }

    @Test("metrics are pushed to a Pushgateway at close: PUT /metrics/job/cacheprog in the text format")
    func pushGateway() async throws {
        // A tiny receiver standing in for the Pushgateway: records method, path, type and body.
        let python = try #require(TestPaths.systemTool("python3"), "python3 not found: run scripts/install-deps.sh")
        let port = Network.freePort()
        let received = work.sub("pushed")
        let script = """
            import sys
            from http.server import HTTPServer, BaseHTTPRequestHandler
            class H(BaseHTTPRequestHandler):
                def log_message(self, *a): pass
                def do_PUT(self):
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    with open(sys.argv[2], "wb") as f:
                        f.write((self.command + " " + self.path + "\\n" + self.headers.get("Content-Type", "") + "\\n").encode() + body)
                    self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
                do_POST = do_PUT
            HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
            """
        let server = try ServerProcess(
            name: "pushgateway stand-in", [python, "-c", script, "\(port)", received], logPath: work.sub("push.log"))
        defer { server.stop() }
        try await server.waitForPort(port)
        let close = Data("{\"ID\":1,\"Command\":\"close\"}\n".utf8)
        let result = try await ProcessRunner.run(
            [TestPaths.cacheprog, "--dir", work.sub("pushstore"), "--metrics-push", "http://127.0.0.1:\(port)/"],
            stdin: close)
        #expect(result.status == 0, "\(result.output)")
        let pushed = try String(contentsOfFile: received, encoding: .utf8)
        let lines = pushed.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)
        #expect(lines[0] == "PUT /metrics/job/cacheprog")
        #expect(lines[1].hasPrefix("text/plain; version=0.0.4"))
        let samples = try PrometheusTextValidator.validate(String(lines[2]))
        #expect(samples.contains { $0.name == "cacheprog_gets_total" && $0.value == 0 })
    }

    @Test(
        "a wrong secret: the build still succeeds from the local store alone, the errors are counted, the secret never printed"
    )
    func wrongSecret() async throws {
        let server = try await startSeaweed()
        defer { server.stop() }
        let secret = "definitely-wrong-\(UUID().uuidString)"
        let result = try await build(
            "wrong", store: "storeW", server: server, secret: secret, gocache: "gcW", extra: ["CASBRIDGE_VERBOSE": "1"])
        #expect(result.status == 0, "\(result.output)")
        #expect(GoModuleFixture.compileCount(result.stderr) >= 4)
        #expect(!result.stderr.contains(secret))
        let s = try stats("wrong")
        #expect(((s["remote"] as? [String: Any])?["errors"] as? Int ?? 0) > 0, "\(s)")
        let run = try await ProcessRunner.run([work.sub("wrong")])
        #expect(run.stdout.contains("fixture says 42"))
    }
}
