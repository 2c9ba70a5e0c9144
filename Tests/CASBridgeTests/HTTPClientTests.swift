import CASBridgeTestSupport
import Foundation
import Testing

@testable import CASBridge
@testable import CASBridgeHTTP

/// HTTPClient edge cases against a tiny Python HTTP/1.1 server (keep-alive, flaky and
/// hanging endpoints) and a port nothing listens on.
@Suite("HTTPClient", .serialized)
struct HTTPClientTests {
    static let script = """
        import os, sys, threading, time
        from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
        counts, ports, lock = {}, set(), threading.Lock()
        files = sys.argv[2]
        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *a): pass
            def reply(self, code, body=b"", headers=()):
                self.send_response(code)
                for k, v in headers: self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Seen-Accept-Encoding", self.headers.get("Accept-Encoding", "-"))
                self.end_headers()
                if self.command != "HEAD": self.wfile.write(body)
            def do_GET(self):
                with lock:
                    ports.add(self.client_address[1])
                    counts[self.path] = counts.get(self.path, 0) + 1
                    n = counts[self.path]
                p = self.path
                if p.startswith("/flaky"): return self.reply(500 if n <= 2 else 200, b"attempt %d" % n)
                if p == "/always500": return self.reply(500, b"x" * 200000)
                if p == "/hang": time.sleep(3600)
                if p == "/connections": return self.reply(200, str(len(ports)).encode())
                if p.startswith("/count/"): return self.reply(200, str(counts.get(p[6:], 0)).encode())
                if p.startswith("/zstd/"):
                    return self.reply(200, open(os.path.join(files, p[6:]), "rb").read(), [("Content-Encoding", "zstd")])
                if p.startswith("/plain/"): return self.reply(200, open(os.path.join(files, p[7:]), "rb").read())
                return self.reply(404, b"no such thing")
            do_HEAD = do_GET
            def do_PUT(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                open(os.path.join(files, "put-" + self.path.strip("/")), "wb").write(body)
                self.reply(201, (self.headers.get("Content-Encoding", "-")).encode())
        ThreadingHTTPServer.daemon_threads = True
        ThreadingHTTPServer.request_queue_size = 128
        ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
        """

    final class PythonServer: Sendable {
        let dir: TemporaryDirectory
        let port: Int
        let process: ServerProcess
        var url: String { "http://127.0.0.1:\(port)" }
        init() async throws {
            guard let python = TestPaths.systemTool("python3") else {
                throw ServerError("python3 not found: run scripts/install-deps.sh")
            }
            dir = try TemporaryDirectory("http-edge")
            port = Network.freePort()
            process = try ServerProcess(
                name: "python http server", [python, "-c", HTTPClientTests.script, "\(port)", dir.path],
                logPath: dir.sub("server.log"))
            try await process.waitForPort(port)
        }
        deinit { process.kill9() }
    }

    func client(stall: Double = 10, request: Double = 60, connect: Double = 3, retries: Int = 2) throws -> HTTPClient {
        var options = HTTPClient.Options()
        options.stallTimeout = Duration(seconds: stall)
        options.requestTimeout = Duration(seconds: request)
        options.connectTimeout = Duration(seconds: connect)
        options.retries = retries
        return HTTPClient(options: options)
    }

    @Test("connections are kept alive and reused, also across concurrent requests")
    func connectionReuse() async throws {
        let server = try await PythonServer()
        let http = try client()
        for _ in 0..<20 {
            let r = try await http.send(method: "GET", url: "\(server.url)/plain-missing", headers: [], body: .none)
            #expect(r.status == 404)
            #expect(r.body == Array("no such thing".utf8))
        }
        let one = try await http.send(method: "GET", url: "\(server.url)/connections", headers: [], body: .none)
        #expect(String(decoding: one.body, as: UTF8.self) == "1", "sequential requests must share one connection")
        let base = server.url
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    try await http.send(method: "GET", url: "\(base)/x", headers: [], body: .none).status
                }
            }
            for try await status in group { #expect(status == 404) }
        }
        let many = try await http.send(method: "GET", url: "\(server.url)/connections", headers: [], body: .none)
        let count = Int(String(decoding: many.body, as: UTF8.self)) ?? 0
        #expect(count >= 2 && count <= 33, "concurrent requests run in parallel on a bounded pool, got \(count)")
    }

    @Test("5xx answers to idempotent requests are retried with backoff; POST is not")
    func retries() async throws {
        let server = try await PythonServer()
        let http = try client()
        let r = try await http.send(method: "GET", url: "\(server.url)/flaky-get", headers: [], body: .none)
        #expect(r.status == 200)
        #expect(r.body == Array("attempt 3".utf8))
        let noRetry = try client(retries: 0)
        let r0 = try await noRetry.send(method: "GET", url: "\(server.url)/flaky-once", headers: [], body: .none)
        #expect(r0.status == 500)
        let persistent = try await http.send(method: "GET", url: "\(server.url)/always500", headers: [], body: .none)
        #expect(persistent.status == 500)
        #expect(persistent.body.count == 64 * 1024, "error bodies are capped at 64 KiB")
        let counted = try await http.send(method: "GET", url: "\(server.url)/count/always500", headers: [], body: .none)
        #expect(String(decoding: counted.body, as: UTF8.self) == "3", "1 attempt + 2 retries")
    }

    @Test("a refused connection fails at once with a remote error naming the URL, not after a timeout")
    func refused() async throws {
        let port = Network.freePort()
        // Every timeout far away: a failure that waited for one would take two minutes and
        // be reported as .timeout.
        let http = try client(stall: 120, request: 120, connect: 120)
        let start = Date()
        do {
            _ = try await http.send(method: "GET", url: "http://127.0.0.1:\(port)/cas/x", headers: [], body: .none)
            Issue.record("expected a failure")
        } catch let error as CASError {
            #expect(error.code == .remote)
            #expect(error.message.contains("127.0.0.1:\(port)/cas/x"))
            #expect(error.message.lowercased().contains("connect"), "curl's reason: \(error.message)")
        }
        // Measured from the test task, which the suites that wait on go builds can keep off
        // both of the pool's threads for many seconds: only a wait for a timeout is this long.
        #expect(Date().timeIntervalSince(start) < 90)
    }

    @Test("a server that accepts and never answers times out after the stall timeout, without retries")
    func hanging() async throws {
        let server = try await PythonServer()
        let start = Date()
        do {
            _ = try await client(stall: 1, request: 120).send(
                method: "GET", url: "\(server.url)/hang", headers: [], body: .none)
            Issue.record("expected a timeout")
        } catch let error as CASError {
            #expect(error.code == .timeout, "\(error)")
        }
        let elapsed = Date().timeIntervalSince(start)
        // The stall timeout (1 s), not the 120 s request timeout, with room for the pool's
        // threads being held by the suites that wait on go builds (see `refused`).
        #expect(elapsed >= 0.9 && elapsed < 90, "took \(elapsed) s")
    }

    @Test("downloads stream to a file; zstd bodies are decompressed; uploads stream from files")
    func bodies() async throws {
        let server = try await PythonServer()
        let http = try client()
        let content = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 / 7) }
        try Data(Zstd.compress(content)).write(to: URL(fileURLWithPath: server.dir.sub("blob.zst")))
        try Data(content).write(to: URL(fileURLWithPath: server.dir.sub("blob")))
        for kind in ["zstd/blob.zst", "plain/blob"] {
            let target = server.dir.sub("download-\(kind.hasPrefix("zstd") ? "z" : "p")")
            let r = try await http.send(
                method: "GET", url: "\(server.url)/\(kind)", headers: [(name: "Accept-Encoding", value: "zstd")],
                body: .none, downloadTo: target)
            #expect(r.status == 200)
            #expect(r.body.isEmpty)
            #expect(r.headers["x-seen-accept-encoding"] == "zstd", "headers are sent and names lowercased")
            #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == Data(content), "\(kind)")
        }
        // A 404 leaves the target alone.
        let none = server.dir.sub("none")
        let r404 = try await http.send(
            method: "GET", url: "\(server.url)/nothing", headers: [], body: .none, downloadTo: none)
        #expect(r404.status == 404)
        #expect(!FileManager.default.fileExists(atPath: none))
        let put = try await http.send(
            method: "PUT", url: "\(server.url)/uploaded", headers: [(name: "Content-Encoding", value: "zstd")],
            body: .file(path: server.dir.sub("blob"), size: Int64(content.count)))
        #expect(put.status == 201)
        #expect(put.body == Array("zstd".utf8))
        #expect(try Data(contentsOf: URL(fileURLWithPath: server.dir.sub("put-uploaded"))) == Data(content))
        let small = try await http.send(
            method: "PUT", url: "\(server.url)/small", headers: [], body: .bytes([1, 2, 3]))
        #expect(small.status == 201)
        #expect(try Data(contentsOf: URL(fileURLWithPath: server.dir.sub("put-small"))) == Data([1, 2, 3]))
    }
}
