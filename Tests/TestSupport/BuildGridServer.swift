import Foundation
import Synchronization

/// A BuildGrid REAPI server (`.tools/venv/bin/bgd`, from scripts/install-deps.sh) with a
/// cache-only configuration — in-memory LRU CAS, ByteStream and action cache — on
/// 127.0.0.1 and a free port, stopped by PID when released.
///
/// BuildGrid takes seconds to start (a large Python import), so tests share
/// `BuildGridServer.shared()` unless they need to stop the server.
public final class BuildGridServer: @unchecked Sendable {
    /// The port it listens on (127.0.0.1).
    public let port: Int
    /// The REAPI instance name it serves.
    public let instanceName: String
    /// The process.
    public let server: ServerProcess
    private let directory: TemporaryDirectory

    /// `grpc://127.0.0.1:PORT[/instance]`.
    public var url: String {
        instanceName.isEmpty ? "grpc://127.0.0.1:\(port)" : "grpc://127.0.0.1:\(port)/\(instanceName)"
    }

    /// Starts a server and waits until it accepts connections.
    public init(instanceName: String = "", casSize: String = "2GB") throws {
        guard let bgd = TestPaths.venvTool("bgd") else {
            throw ServerError(
                "BuildGrid is not installed: .tools/venv/bin/bgd is missing; run scripts/install-deps.sh")
        }
        self.instanceName = instanceName
        directory = try TemporaryDirectory("buildgrid")
        port = Network.freePort()
        let config = """
            server:
              - !channel
                address: "127.0.0.1:\(port)"
                insecure-mode: true
            storages:
              - !lru-storage &cas
                size: \(casSize)
            caches:
              - !lru-action-cache &ac
                storage: *cas
                max-cached-refs: 1000000
                allow-updates: true
                cache-failed-actions: true
            instances:
              - name: "\(instanceName)"
                services:
                  - !action-cache
                    cache: *ac
                  - !cas
                    storage: *cas
                  - !bytestream
                    storage: *cas
            thread-pool-size: 16

            """
        let configPath = directory.sub("buildgrid.yml")
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        server = try ServerProcess(
            name: "BuildGrid", [bgd, "server", "start", configPath], directory: directory.path,
            logPath: directory.sub("buildgrid.log"))
        try server.waitForPort(port, timeout: 180)
    }

    /// Stops the server (SIGTERM, then SIGKILL).
    public func stop() { server.stop() }

    /// Kills the server at once.
    public func kill9() { server.kill9() }

    private static let sharedServer = Mutex<Result<BuildGridServer, any Error>?>(nil)

    /// One server for the whole test process, started on first use.
    public static func shared() throws -> BuildGridServer {
        try sharedServer.withLock { slot in
            if let slot { return try slot.get() }
            let result = Result { try BuildGridServer(instanceName: "casbridge-ci") }
            slot = result
            // Stopped by PID when the test process exits, like every other test server.
            atexit { BuildGridServer.stopShared() }
            return try result.get()
        }
    }

    /// Stops the shared server, if one was started.
    public static func stopShared() {
        let server = sharedServer.withLock { slot in try? slot?.get() }
        server?.stop()
    }
}
