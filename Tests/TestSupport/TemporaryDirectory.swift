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
        // Module caches are read-only: make their directories writable first.
        var directories = [path]
        while let directory = directories.popLast() {
            var info = stat()
            guard lstat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { continue }
            chmod(directory, info.st_mode & 0o7777 | S_IRWXU)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                directories.append("\(directory)/\(name)")
            }
        }
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
