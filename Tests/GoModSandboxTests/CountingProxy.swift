import CASBridgeTestSupport
import Foundation

/// The fixture's GOPROXY served over HTTP by `goproxy.py serve`, which logs every
/// request, so a test can count what the go command fetched from the proxy.
final class CountingProxy: @unchecked Sendable {
    let server: ServerProcess
    let logPath: String
    let url: String

    /// Serves `directory`; `scratch` holds the port file, the request log and the server's output.
    init(directory: String, scratch: String) throws {
        logPath = "\(scratch)/proxy-requests.log"
        let portFile = "\(scratch)/proxy-port"
        server = try ServerProcess(
            name: "goproxy",
            [
                "/usr/bin/env", "python3", GoModFixture.proxyScript, "serve", directory, "--port-file", portFile,
                "--log", logPath,
            ], logPath: "\(scratch)/proxy-server.log")
        var port: String? = nil
        for _ in 0..<3000 {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8) {
                port = text.trimmingCharacters(in: .whitespacesAndNewlines)
                break
            }
            if !server.process.isRunning { break }
            usleep(10_000)
        }
        guard let port else {
            server.stop()
            throw FixtureError("the counting GOPROXY did not start: \(server.log)")
        }
        url = "http://127.0.0.1:\(port)"
    }

    deinit { server.stop() }

    /// The requests so far, as `<status> <path>` lines.
    var requests: [String] {
        ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}
