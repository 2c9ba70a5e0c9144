public import Foundation

/// Runs commands for tests and collects their output.
public enum ProcessRunner {
    /// A finished command.
    public struct Result: Sendable {
        /// The exit status (or 128 + signal).
        public var status: Int32
        /// Everything written to stdout.
        public var stdout: String
        /// Everything written to stderr.
        public var stderr: String
        /// stdout and stderr for failure messages.
        public var output: String { "status \(status)\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }
    }

    /// Runs `arguments` (the first is the executable) with `environment` added to this
    /// process's environment, in `directory`, and waits for it without holding a thread
    /// (see `RunningProcess`).
    @discardableResult
    public static func run(
        _ arguments: [String], environment: [String: String] = [:], directory: String? = nil,
        removing: [String] = [], stdin: Data? = nil
    ) async throws -> Result {
        try await RunningProcess(
            arguments, environment: environment, directory: directory, removing: removing, stdin: stdin
        ).result()
    }
}
