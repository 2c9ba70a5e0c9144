import Foundation

/// A real nginx serving the bazel-remote HTTP layout (`/ac/<hex>`, `/cas/<hex>`) as WebDAV
/// (`dav_methods PUT`) from a directory, on 127.0.0.1 and a free port, stopped by PID.
public final class NginxServer: @unchecked Sendable {
    /// The directory holding everything: config, logs, temp files and `root/`.
    public let directory: TemporaryDirectory
    /// Where nginx stores uploads: `root/ac/<hex>` and `root/cas/<hex>`.
    public let root: String
    /// The port on 127.0.0.1.
    public let port: Int
    /// The running process.
    public private(set) var server: ServerProcess
    private let arguments: [String]

    /// The base URL, e.g. `http://127.0.0.1:PORT`.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// Starts nginx; throws with a clear message when `/usr/sbin/nginx` (Debian
    /// `nginx-light`, from scripts/install-deps.sh) is missing. With `prefixes`, it serves the
    /// layout under any path prefix too (`/<prefix>/ac/<hex>`), as separate stores on one
    /// server; without, only at the root, so other paths are refused.
    public init(prefixes: Bool = false) async throws {
        guard let nginx = TestPaths.systemTool("nginx") else {
            throw ServerError("nginx not found: run scripts/install-deps.sh (Debian package nginx-light)")
        }
        directory = try TemporaryDirectory("nginx")
        root = directory.sub("root")
        port = Network.freePort()
        for sub in ["root/ac", "root/cas", "client_body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            try FileManager.default.createDirectory(atPath: directory.sub(sub), withIntermediateDirectories: true)
        }
        let d = directory.path
        let config = """
            daemon off;
            master_process off;
            worker_processes 1;
            error_log \(d)/error.log warn;
            pid \(d)/nginx.pid;
            events { worker_connections 1024; }
            http {
                access_log off;
                log_not_found off;
                client_body_temp_path \(d)/client_body;
                proxy_temp_path \(d)/proxy;
                fastcgi_temp_path \(d)/fastcgi;
                uwsgi_temp_path \(d)/uwsgi;
                scgi_temp_path \(d)/scgi;
                keepalive_requests 100000;
                server {
                    listen 127.0.0.1:\(port);
                    location ~ "^\(prefixes ? "(/[A-Za-z0-9._-]+)*" : "")/(ac|cas)/[0-9a-f]{64}$" {
                        dav_methods PUT;
                        create_full_put_path on;
                        client_max_body_size 0;
                        root \(root);
                    }
                }
            }
            """
        try config.write(toFile: directory.sub("nginx.conf"), atomically: true, encoding: .utf8)
        arguments = [nginx, "-p", d, "-c", directory.sub("nginx.conf"), "-e", directory.sub("error.log")]
        server = try ServerProcess(name: "nginx", arguments, logPath: directory.sub("stdout.log"))
        try await server.waitForPort(port)
    }

    /// The file nginx serves for `/<kind>/<hex>`.
    public func path(_ kind: String, _ hex: String) -> String { "\(root)/\(kind)/\(hex)" }

    /// The files stored under `root/<kind>`.
    public func stored(_ kind: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(kind)")) ?? []
    }

    /// Kills nginx at once (SIGKILL), as a crash would.
    public func kill9() { server.kill9() }

    /// Stops nginx.
    public func stop() { server.stop() }

    /// Starts nginx again on the same port and directory after a stop or kill.
    public func restart() async throws {
        server.stop()
        server = try ServerProcess(name: "nginx", arguments, logPath: directory.sub("stdout.log"))
        try await server.waitForPort(port)
    }

    // A test server's data does not matter: no graceful shutdown.
    deinit { server.kill9() }
}
