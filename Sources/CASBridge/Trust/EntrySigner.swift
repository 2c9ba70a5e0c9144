/// A writer's signing key: signs every action entry it uploads (`SignedStore`).
///
/// The key comes from a file or an environment variable, one line `NAME:base64` of Nix's
/// 64-byte secret key (the seed, then the public key) or of the 32-byte seed alone. Its
/// errors name where the key came from and never quote it.
public final class EntrySigner: Sendable, CustomStringConvertible {
    /// The key's name, written with every signature.
    public let keyName: String
    private let key: Ed25519PrivateKey

    package init(keyName: String, key: Ed25519PrivateKey) {
        self.keyName = keyName
        self.key = key
    }

    /// The key in `line`, read from `source` (a file's path or a variable's name, for errors).
    public convenience init(line: some StringProtocol, source: String) throws {
        let parsed: KeyLine
        do {
            parsed = try KeyLine(parsing: line)
        } catch {
            throw CASError(.invalidConfiguration, "signing key \(source): \(error)")
        }
        let seed = Array(parsed.bytes.prefix(Ed25519PrivateKey.seedByteCount))
        guard parsed.bytes.count == 32 || parsed.bytes.count == 64, let key = Ed25519PrivateKey(seed: seed) else {
            throw CASError(
                .invalidConfiguration,
                "signing key \(source): not an Ed25519 secret key (\(parsed.bytes.count) bytes; 64 or 32 expected)")
        }
        if parsed.bytes.count == 64, Array(parsed.bytes.suffix(32)) != key.publicKey.bytes {
            throw CASError(
                .invalidConfiguration, "signing key \(source): its second half is not the public key of its seed")
        }
        self.init(keyName: parsed.name, key: key)
    }

    /// The key in the file at `path`: its one line (blank lines and `#` comments aside).
    public convenience init(file path: String) throws {
        let text: String
        do {
            text = String(decoding: try FileSystem.readFile(path), as: UTF8.self)
        } catch {
            throw CASError(.invalidConfiguration, "cannot read the signing key file \(path): \(error)")
        }
        let lines = text.split(whereSeparator: \.isNewline).filter {
            let t = $0.trimmingWhitespace
            return !t.isEmpty && !t.hasPrefix("#")
        }
        guard lines.count == 1 else {
            throw CASError(
                .invalidConfiguration,
                "signing key file \(path): \(lines.count) key lines; one NAME:base64 line expected")
        }
        try self.init(line: lines[0], source: "file \(path)")
    }

    /// A new random key named `keyName`.
    package static func generate(keyName: String) -> EntrySigner? {
        Ed25519PrivateKey.generate().map { EntrySigner(keyName: keyName, key: $0) }
    }

    /// The public key line readers trust (`NAME:base64`).
    public var publicKeyLine: String { KeyLine.format(name: keyName, bytes: key.publicKey.bytes) }

    /// The secret key line, as Nix writes it (64 bytes): for `keygen` only.
    package var secretKeyLine: String? { key.secretKeyBytes.map { KeyLine.format(name: keyName, bytes: $0) } }

    /// The public key, trusted by the writer itself.
    package var publicKey: Ed25519PublicKey { key.publicKey }

    /// The signature of `entry` as recorded for `actionID`.
    public func sign(_ entry: ActionEntry, for actionID: Digest) throws -> EntrySignature {
        let message = EntrySignature.message(actionID: actionID, entry: entry, keyName: keyName)
        guard let bytes = key.sign(message) else {
            throw CASError(.invalidConfiguration, "libcrypto could not sign the entry of action \(actionID)")
        }
        return EntrySignature(keyName: keyName, bytes: bytes)
    }

    public var description: String { "EntrySigner(\(keyName))" }
}
