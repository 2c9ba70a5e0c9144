import ArgumentParser
import CASBridge
import GoModSandbox

/// `cacheprog gomod materialize`: a GOMODCACHE from a tree.
struct GoModMaterialize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "materialize",
        abstract: "Build a module cache directory (GOMODCACHE) from a tree digest.",
        discussion: """
            Files are hard links to the store's read-only blobs when on the same file system, copies \
            otherwise; every blob is checked against its digest. Re-running into a complete directory \
            only checks that the files are there. With --remote, blobs missing locally are fetched first.
            """)

    @OptionGroup var options: GoModOptions

    @Argument(help: ArgumentHelp("The tree digest printed by 'gomod download'.", valueName: "digest"))
    var digest: String

    @Option(name: .long, help: ArgumentHelp("The directory to build (created if needed).", valueName: "dir"))
    var into: String

    func run() throws {
        guard let root = Digest(hex: digest), digest.count == 64 else {
            throw ValidationError("'\(digest)' is not a SHA-256 digest (64 hexadecimal digits)")
        }
        let cache = try options.makeCache()
        if cache.remote != nil {
            let error: CASError? = waitForTask {
                do {
                    try await cache.fetchTree(root)
                    return nil
                } catch {
                    return error as? CASError ?? CASError(.remote, "\(error)")
                }
            }
            if let error { GoModOutput.error("gomod: fetching tree \(root) from the remote: \(error)") }
        }
        do {
            let report = try cache.materialize(root, into: into)
            GoModOutput.error(
                report.quick
                    ? "gomod: \(into) is complete (\(report.present) files)"
                    : "gomod: \(into): \(report.created) files created (\(report.copied) copied), \(report.present) already present"
            )
        } catch {
            GoModOutput.error("gomod: \(error)")
            throw ExitCode(1)
        }
        print(FileSystem.absolute(into))
    }
}
