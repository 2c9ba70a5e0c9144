import Foundation

/// moto's S3 (and other AWS services) server on 127.0.0.1: a second S3 dialect. It does not
/// check signatures. Stopped by PID when released.
public final class MotoServer: @unchecked Sendable {
    /// The port.
    public let port: Int
    /// `http://127.0.0.1:PORT`.
    public var endpoint: String { "http://127.0.0.1:\(port)" }
    /// The process.
    public let server: ServerProcess
    let directory: TemporaryDirectory

    /// Starts `moto_server` from the test venv and waits for its port.
    public init() async throws {
        guard let moto = TestPaths.venvTool("moto_server") else {
            throw ServerError(
                "moto is missing: .tools/venv/bin/moto_server (PyPI moto[server]); run scripts/install-deps.sh")
        }
        directory = try TemporaryDirectory("moto")
        port = Network.freePort()
        server = try ServerProcess(
            name: "moto", [moto, "-H", "127.0.0.1", "-p", "\(port)"], logPath: directory.sub("moto.log"))
        try await server.waitForPort(port)
    }

    /// Stops the server now.
    public func stop() { server.stop() }

    deinit { server.stop() }
}
