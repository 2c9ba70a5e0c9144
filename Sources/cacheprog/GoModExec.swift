import ArgumentParser
import CASBridge
import Glibc
import GoModSandbox

/// `cacheprog gomod exec`: one hermetic build step.
struct GoModExec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Ensure and materialise the module tree, then run a command offline against it.",
        discussion: """
            Runs CMD with GOMODCACHE set to the materialised tree, GOPROXY=off, GOFLAGS with \
            -mod=readonly (-mod=vendor for vendored modules), GOCACHEPROG set to this cacheprog with \
            the same --dir, and GOTOOLCHAIN=local and GOWORK=off unless already set. go.sum is \
            still verified: GONOSUMDB, GONOSUMCHECK and GOSUMDB are left as they are.
            """)

    @OptionGroup var options: GoModOptions

    @Option(name: .long, help: ArgumentHelp("Materialise here instead of <store>/gomod/<digest>.", valueName: "dir"))
    var into: String?

    @Argument(help: ArgumentHelp("The module directory (default: the current one).", valueName: "dir"))
    var directory: String = "."

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The command to run, after --.", valueName: "cmd"))
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command to run after --, e.g. -- go build ./...") }
    }

    func run() throws {
        let cache = try options.makeCache()
        let dirs = try ModuleDiscovery.moduleDirectories(directory)
        let outcome: Result<EnsureResult, CASError> = waitForTask {
            do {
                return .success(try await cache.ensure(moduleDirectory: dirs[0]))
            } catch {
                return .failure(error as? CASError ?? CASError(.io, "\(error)"))
            }
        }
        let result: EnsureResult
        switch outcome {
        case .success(let r): result = r
        case .failure(let error):
            GoModOutput.error("gomod: \(error)")
            throw ExitCode(1)
        }
        let modCache: String
        do {
            if let into {
                try cache.materialize(result.rootDigest, into: into)
                modCache = FileSystem.absolute(into)
            } else {
                modCache = try cache.sharedMaterialization(result.rootDigest)
            }
        } catch {
            GoModOutput.error("gomod: \(error)")
            throw ExitCode(1)
        }
        let selfPath = GoModExec.executablePath()
        let env = GoModEnvironment.sandbox(
            base: GoModEnvironment.current, moduleCache: modCache, vendored: result.source == .vendored,
            cacheProg: "\(GoModEnvironment.quote(selfPath)) --dir \(GoModEnvironment.quote(cache.local.directory))")
        guard let program = GoModEnvironment.find(command[0], path: env["PATH"]) else {
            GoModOutput.error("gomod: \(command[0]): command not found")
            throw ExitCode(127)
        }
        if chdir(directory) != 0 {
            GoModOutput.error("gomod: cannot change to \(directory)")
            throw ExitCode(1)
        }
        let argv = command.map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        execve(program, argv, envp)
        GoModOutput.error("gomod: cannot run \(program): \(String(cString: strerror(errno)))")
        throw ExitCode(126)
    }

    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments[0] }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
