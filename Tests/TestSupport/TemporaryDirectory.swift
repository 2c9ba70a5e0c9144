public import Foundation

/// A directory under the system temporary directory, removed when released.
public final class TemporaryDirectory: @unchecked Sendable {
    /// Its absolute path.
    public let path: String

    /// Creates a fresh directory whose name starts with `prefix`.
    public init(_ prefix: String = "casbridge-test") throws {
        let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        path = "\(base)/\(prefix)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A path inside the directory.
    public func sub(_ name: String) -> String { "\(path)/\(name)" }

    deinit {
        // Module caches are read-only: make them writable first.
        _ = try? ProcessRunner.run(["/bin/chmod", "-R", "u+w", path])
        try? FileManager.default.removeItem(atPath: path)
    }
}

extension TemporaryDirectory {
    /// The JSON object a helper run wrote with `--stats-file` / `CASBRIDGE_STATS_FILE` at `sub(name)`.
    public func statsJSON(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: sub(name)))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// The bytes of the file `sub(name)`.
    public func contents(_ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: sub(name)))
    }
}
