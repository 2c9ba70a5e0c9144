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

    /// Whether it speaks TLS.
    public let tls: Bool

    /// `grpc://127.0.0.1:PORT[/instance]`, or `grpcs://…` with TLS.
    public var url: String {
        let scheme = tls ? "grpcs" : "grpc"
        return instanceName.isEmpty
            ? "\(scheme)://127.0.0.1:\(port)" : "\(scheme)://127.0.0.1:\(port)/\(instanceName)"
    }

    /// A server key and certificate (PEM files) for TLS.
    public struct TLSFiles: Sendable {
        /// The private key's path.
        public var key: String
        /// The certificate's path.
        public var certificate: String

        /// Creates the pair.
        public init(key: String, certificate: String) {
            self.key = key
            self.certificate = certificate
        }

        /// Makes a self-signed certificate for 127.0.0.1 (and localhost) in `directory` with
        /// the openssl command.
        public static func selfSigned(in directory: TemporaryDirectory) async throws -> TLSFiles {
            let files = TLSFiles(key: directory.sub("server.key"), certificate: directory.sub("server.crt"))
            let result = try await ProcessRunner.run([
                "/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", files.key, "-out", files.certificate,
            ])
            guard result.status == 0 else { throw ServerError("openssl req failed: \(result.stderr)") }
            return files
        }
    }

    /// Starts a server (with TLS when `tls` is given) and waits until it accepts connections.
    public init(instanceName: String = "", casSize: String = "2GB", tls: TLSFiles? = nil) async throws {
        guard let bgd = TestPaths.venvTool("bgd") else {
            throw ServerError(
                "BuildGrid is not installed: .tools/venv/bin/bgd is missing; run scripts/install-deps.sh")
        }
        self.instanceName = instanceName
        directory = try TemporaryDirectory("buildgrid")
        port = Network.freePort()
        self.tls = tls != nil
        let channelSecurity =
            tls.map {
                """
                    insecure-mode: false
                    credentials:
                      tls-server-key: \($0.key)
                      tls-server-cert: \($0.certificate)
                """
            } ?? "    insecure-mode: true"
        let config = """
            server:
              - !channel
                address: "127.0.0.1:\(port)"
            \(channelSecurity)
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
        try await server.waitForPort(port)
    }

    /// Stops the server (SIGTERM, then SIGKILL).
    public func stop() { server.stop() }

    /// Kills the server at once.
    public func kill9() { server.kill9() }

    private static let sharedServer = Mutex<Task<BuildGridServer, any Error>?>(nil)

    /// One server for the whole test process, started on first use.
    public static func shared() async throws -> BuildGridServer {
        let task = sharedServer.withLock { slot in
            if let slot { return slot }
            let task = Task {
                let server = try await BuildGridServer(instanceName: "casbridge-ci")
                sharedStarted.withLock { $0 = server }
                return server
            }
            slot = task
            // Stopped by PID when the test process exits, like every other test server.
            atexit { BuildGridServer.stopShared() }
            return task
        }
        return try await task.value
    }

    /// Stops the shared server, if one was started and is up (at exit: nothing to await).
    public static func stopShared() {
        sharedStarted.withLock { $0 }?.stop()
    }

    /// The shared server once it listens, for `stopShared`.
    private static let sharedStarted = Mutex<BuildGridServer?>(nil)
}
