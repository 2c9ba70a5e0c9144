public import Foundation
import Synchronization

/// A server started by a test on 127.0.0.1 and stopped by PID when released.
public final class ServerProcess: @unchecked Sendable {
    /// The running process.
    public let process: Process
    /// The file collecting its stdout and stderr.
    public let logPath: String
    /// What it is, for messages.
    public let name: String
    /// The exit status once it exited (from `Process.terminationHandler`).
    private let exitStatus = ExitStatus()

    /// Where the termination handler leaves the exit status.
    private final class ExitStatus: Sendable {
        let value = Mutex<Int32?>(nil)
    }

    /// Starts `arguments` with its output in `logPath`.
    public init(
        name: String, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil,
        logPath: String
    ) throws {
        self.name = name
        self.logPath = logPath
        process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        process.environment = env
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        let exitStatus = exitStatus
        process.terminationHandler = { p in exitStatus.value.withLock { $0 = p.terminationStatus } }
        try process.run()
    }

    /// The server's log so far.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until `port` on 127.0.0.1 accepts connections, or throws with the server's log
    /// once the server exited. Between attempts it sleeps as a task: no thread is held.
    public func waitForPort(_ port: Int) async throws {
        while true {
            if let status = exitStatus.value.withLock({ $0 }) {
                throw ServerError("\(name) exited with status \(status) before listening on \(port):\n\(log)")
            }
            if Network.canConnect(port: port) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stops the server: SIGTERM, then SIGKILL after `grace` seconds.
    public func stop(grace: Double = 5) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Kills the server at once (a crash, for fault tests).
    public func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// A failure to start or reach a test server.
public struct ServerError: Error, CustomStringConvertible {
    /// What went wrong.
    public var description: String
    /// Creates an error.
    public init(_ description: String) { self.description = description }
}

/// Loopback helpers.
public enum Network {
    /// A TCP port on 127.0.0.1 for a server to listen on: free right now, outside the
    /// ephemeral range, not handed out before by this process (see `freePorts(_:)`).
    public static func freePort() -> Int {
        freePorts(1)[0]
    }

    /// A TCP socket bound to a free port on 127.0.0.1, not yet listening: the caller owns
    /// the descriptor.
    public static func boundSocket() -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = loopback(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
        }
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }

    /// The IPv4 address 127.0.0.1:`port`.
    static func loopback(port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        return addr
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    public static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = loopback(port: port)
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
