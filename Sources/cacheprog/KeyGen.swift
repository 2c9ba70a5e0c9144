import ArgumentParser
import CASBridge
import Glibc

/// `cacheprog keygen NAME`: a new Ed25519 key pair for signing entries, as Nix writes its
/// binary-cache keys: `NAME.private` (mode 0600) holds `NAME:base64` of the 64-byte secret
/// key (the seed, then the public key), `NAME.public` holds `NAME:base64` of the public key.
/// Existing files are never overwritten; nothing is left half-written.
struct KeyGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write a key pair for signing cache entries: NAME.private (0600) and NAME.public.",
        discussion: """
            Give NAME.private to writers (--signing-key-file) and the line in NAME.public to readers \
            (--trusted-keys-file or CASBRIDGE_TRUSTED_KEYS, with --trust signed). See docs/trust.md.
            """)

    @Argument(help: "The key's name: 1 to 128 letters, digits, '.', '_' or '-', e.g. ci.example.com-1.")
    var name: String

    @Option(
        name: .long,
        help: ArgumentHelp("Directory to write the two files in (default: the current one).", valueName: "dir"))
    var outputDir: String = "."

    func validate() throws {
        guard KeyLine.isValidName(name) else {
            throw ValidationError("'\(name)': a key name is 1 to 128 letters, digits, '.', '_' or '-'")
        }
    }

    func run() throws {
        let privatePath = "\(outputDir)/\(name).private"
        let publicPath = "\(outputDir)/\(name).public"
        for path in [privatePath, publicPath] where FileSystem.status(path) != nil {
            throw CommandError("\(path) exists; refusing to overwrite a key")
        }
        guard let signer = EntrySigner.generate(keyName: name), let secret = signer.secretKeyLine else {
            throw CommandError("libcrypto could not generate an Ed25519 key")
        }
        try Self.create(privatePath, contents: secret + "\n", mode: 0o600)
        do {
            try Self.create(publicPath, contents: signer.publicKeyLine + "\n", mode: 0o644)
        } catch {
            unlink(privatePath)
            throw error
        }
        print("wrote \(privatePath) (secret: give it to writers only) and \(publicPath):")
        print(signer.publicKeyLine)
    }

    /// Creates `path` (never over an existing file) holding `contents`, with `mode`; removes it
    /// again if writing fails.
    static func create(_ path: String, contents: String, mode: mode_t) throws {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let error = SystemError("create \(path)", errno: errno)
            throw CommandError(errno == EEXIST ? "\(path) exists; refusing to overwrite a key" : "\(error)")
        }
        do {
            defer { close(fd) }
            guard fchmod(fd, mode) == 0 else { throw SystemError("chmod \(path)", errno: errno) }
            try FileSystem.writeAll(fd, Array(contents.utf8), path: path)
            guard fsync(fd) == 0 else { throw SystemError("fsync \(path)", errno: errno) }
        } catch {
            unlink(path)
            throw CommandError("cannot write \(path): \(error)")
        }
    }
}
