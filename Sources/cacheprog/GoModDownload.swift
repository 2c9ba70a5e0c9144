import ArgumentParser
import CASBridge
import FoundationEssentials
import GoModSandbox

/// `cacheprog gomod download`: one tree per go.mod.
struct GoModDownload: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Ensure the module tree of each go.mod is in the store; print the tree digest.",
        discussion: """
            DIR names the module whose go.mod is in DIR or a parent; DIR/... names every go.mod under \
            DIR (vendor, testdata and hidden directories skipped; nested modules are their own). A key \
            already in the local or remote store costs neither the go command nor the module proxy. \
            Prints the digest (one module) or 'digest dir' lines (several); --json prints objects.
            """)

    @OptionGroup var options: GoModOptions

    @Flag(name: .long, help: "Print a JSON array of results.")
    var json = false

    @Argument(help: ArgumentHelp("A module directory, or DIR/... for every module under DIR.", valueName: "dir"))
    var target: String = "."

    func run() throws {
        let cache = try options.makeCache()
        let directories: [String]
        do {
            directories = try ModuleDiscovery.moduleDirectories(target)
        } catch {
            // A directory without a go.mod is not a mistake in the command line: no usage text.
            throw CommandError("\(error)")
        }
        if target.hasSuffix("...") {
            let base = String(target.dropLast(3))
            if FileSystem.exists(FileSystem.absolute(base.isEmpty ? "." : base) + "/go.work") {
                GoModOutput.error("gomod: go.work ignored: each module is downloaded on its own (GOWORK=off)")
            }
        }
        var results: [EnsureResult] = []
        var failed = false
        for dir in directories {
            let outcome: Result<EnsureResult, CASError> = waitForTask {
                do {
                    return .success(try await cache.ensure(moduleDirectory: dir))
                } catch let error as CASError {
                    return .failure(error)
                } catch {
                    return .failure(CASError(.io, "\(error)"))
                }
            }
            switch outcome {
            case .success(let r):
                results.append(r)
                let what: String
                switch r.source {
                case .local: what = "cached"
                case .remote: what = "fetched from the remote"
                case .downloaded:
                    let seeded = r.seededModules > 0 ? " (\(r.seededModules) modules from the store)" : ""
                    what = "downloaded \(r.files) files, \(r.bytes) bytes\(seeded)"
                case .vendored: what = "vendored: nothing to download"
                }
                if !json {
                    GoModOutput.error("gomod: \(r.directory): \(what) in \(GoModOutput.seconds(r.seconds))")
                }
            case .failure(let error):
                GoModOutput.error("gomod: \(error)")
                failed = true
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
        } else if directories.count == 1 {
            if let r = results.first { print(r.digest) }
        } else {
            for r in results { print("\(r.digest) \(r.directory)") }
        }
        if failed { throw ExitCode(1) }
    }
}
