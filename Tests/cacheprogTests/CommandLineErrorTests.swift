import CASBridgeTestSupport
import Foundation
import Testing

/// How the executable reports failures: usage text only after a usage error, and each
/// message said once.
@Suite("command-line errors")
struct CommandLineErrorTests {
    let work: TemporaryDirectory

    init() throws {
        work = try TemporaryDirectory("cli-errors")
    }

    /// A store directory that cannot be created: its parent is a regular file.
    func unopenableStore() throws -> String {
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: work.sub("file")))
        return work.sub("file/store")
    }

    @Test(
        "a store that cannot be opened is named once, without usage text",
        arguments: [[], ["stats"], ["trim", "--max-age", "7d"], ["gomod", "download"]])
    func unopenableStoreIsNamedOnce(_ command: [String]) async throws {
        let dir = try unopenableStore()
        let result = try await ProcessRunner.run(
            [TestPaths.cacheprog] + command + ["--dir", dir], directory: work.path)
        #expect(result.status != 0)
        let mentions = result.stderr.components(separatedBy: "cannot open the local store at \(dir)").count - 1
        #expect(mentions == 1, "\(result.output)")
        #expect(result.stderr.contains("Not a directory"), "the system's reason is kept: \(result.output)")
        #expect(!result.stderr.contains("Usage:"), "\(result.output)")
        #expect(!result.stdout.contains("KnownCommands"), "the helper did not start serving")
    }

    @Test("gomod download of a directory without a go.mod says so, without usage text")
    func gomodWithoutGoMod() async throws {
        let missing = work.sub("nonexistent")
        let result = try await ProcessRunner.run(
            [TestPaths.cacheprog, "gomod", "download", missing, "--dir", work.sub("store")])
        #expect(result.status != 0)
        #expect(result.stderr.contains(missing), "\(result.output)")
        #expect(!result.stderr.contains("Usage:"), "\(result.output)")
        #expect(result.stdout.isEmpty, "\(result.output)")
    }

    @Test("a usage error still shows the usage text")
    func usageErrorShowsUsage() async throws {
        let result = try await ProcessRunner.run(
            [TestPaths.cacheprog, "trim", "--max-size", "lots", "--dir", work.sub("store")])
        #expect(result.status != 0)
        #expect(result.stderr.contains("'lots' is not a size"), "\(result.output)")
        #expect(result.stderr.contains("Usage:"), "\(result.output)")
    }

    @Test("an unsupported remote scheme is refused with the schemes the executable knows")
    func unsupportedScheme() async throws {
        let result = try await ProcessRunner.run(
            [TestPaths.cacheprog, "--remote", "ftp://user:secret@example.invalid/x", "--dir", work.sub("store")])
        #expect(result.status != 0)
        #expect(result.stderr.contains("unsupported scheme; use http(s)://, s3:// or grpc(s)://"), "\(result.output)")
        #expect(!result.stderr.contains("secret"), "the password is not shown: \(result.output)")
        #expect(!result.stdout.contains("KnownCommands"), "the helper did not start serving")
    }
}
