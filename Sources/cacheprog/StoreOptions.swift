import ArgumentParser
import CASBridge

/// Options shared by every subcommand that opens the local store.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The local store directory (env CASBRIDGE_DIR; default $XDG_CACHE_HOME/casbridge, else ~/.cache/casbridge).",
            valueName: "dir"))
    var dir: String?

    /// The directory to open: flag, then environment, then the default.
    var directory: String { StoreOptions.directory(dir) }

    func openStore() throws -> LocalStore { try StoreOptions.openStore(at: directory) }

    /// The directory to open for a `--dir` value: the value, then `CASBRIDGE_DIR`, then the default.
    static func directory(_ dir: String?) -> String {
        dir ?? EnvironmentVariable.dir.value ?? LocalStore.defaultDirectory
    }

    /// Opens the store at `directory`; a failure is a `CommandError` naming the directory once.
    static func openStore(at directory: String) throws -> LocalStore {
        do {
            return try LocalStore(directory: directory)
        } catch let error as CASError {
            // The store's own errors already name its directory.
            throw CommandError("\(error)")
        } catch {
            throw CommandError("cannot open the local store at \(directory): \(error)")
        }
    }
}
