import Foundation

/// Where the repository, the built binaries and the test tools are.
public enum TestPaths {
    /// The repository root.
    public static let repoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The directory holding the test bundle and the built products.
    public static let productsDirectory: String = {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: exe).deletingLastPathComponent()
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("cacheprog").path) {
            url.deleteLastPathComponent()
        }
        return url.path
    }()

    /// The cacheprog binary built with the tests.
    public static var cacheprog: String { "\(productsDirectory)/cacheprog" }

    /// The `go` binary: `CASBRIDGE_TEST_GO`, else `.tools/gobin/go` (from scripts/install-deps.sh),
    /// else the first `go` on PATH. Nil when there is none.
    public static let go: String? = {
        let env = ProcessInfo.processInfo.environment
        if let explicit = env["CASBRIDGE_TEST_GO"], FileManager.default.isExecutableFile(atPath: explicit) {
            return explicit
        }
        let tools = "\(repoRoot)/.tools/gobin/go"
        if FileManager.default.isExecutableFile(atPath: tools) { return tools }
        for dir in (env["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(dir)/go"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// A binary from the test venv (`.tools/venv/bin/NAME`), or nil.
    public static func venvTool(_ name: String) -> String? {
        let path = "\(repoRoot)/.tools/venv/bin/\(name)"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// A system binary found on PATH or in the usual sbin directories, or nil.
    public static func systemTool(_ name: String) -> String? {
        let env = ProcessInfo.processInfo.environment
        let dirs = (env["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin"]
        for dir in dirs where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        return nil
    }
}
