/// The public keys a reader trusts, by name, as Nix's `trusted-public-keys`: lines
/// `NAME:base64` of 32-byte Ed25519 public keys. Several keys (of one name or of several)
/// allow rotation: an entry is trusted when any of its signatures verifies with a trusted
/// key of the signature's name.
public struct TrustedKeys: Sendable {
    private var keys: [String: [Ed25519PublicKey]] = [:]

    /// No keys.
    public init() {}

    /// The keys in `text`, separated by white space or newlines (blank lines and `#` comments
    /// aside), read from `source` (a file's path or a variable's name): an error names the
    /// source and the line.
    public init(parsing text: String, source: String) throws {
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.prefix { $0 != "#" }
            for word in content.split(whereSeparator: \.isWhitespace) {
                let parsed: KeyLine
                do {
                    parsed = try KeyLine(parsing: word)
                } catch {
                    throw CASError(.invalidConfiguration, "trusted keys \(source) line \(number + 1): \(error)")
                }
                guard parsed.bytes.count == Ed25519PublicKey.byteCount, let key = Ed25519PublicKey(bytes: parsed.bytes)
                else {
                    throw CASError(
                        .invalidConfiguration,
                        "trusted keys \(source) line \(number + 1): key \(parsed.name) is not an Ed25519 public key"
                            + " (\(parsed.bytes.count) bytes; 32 expected)")
                }
                keys[parsed.name, default: []].append(key)
            }
        }
    }

    /// The keys in the file at `path`.
    public init(file path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path)
        } catch {
            throw CASError(.invalidConfiguration, "cannot read the trusted keys file \(path): \(error)")
        }
        try self.init(parsing: String(decoding: bytes, as: UTF8.self), source: "file \(path)")
    }

    /// Whether there are no keys.
    public var isEmpty: Bool { keys.isEmpty }

    /// The names of the keys.
    public var names: [String] { keys.keys.sorted() }

    /// Adds `key` under `name` (a writer trusts its own key).
    package mutating func add(_ key: Ed25519PublicKey, named name: String) {
        guard !(keys[name] ?? []).contains(where: { $0.bytes == key.bytes }) else { return }
        keys[name, default: []].append(key)
    }

    /// Adds the public key of `signer`.
    public mutating func add(_ signer: EntrySigner) {
        add(signer.publicKey, named: signer.keyName)
    }

    /// Whether one of `entry`'s signatures, recorded for `actionID`, verifies with a trusted key.
    public func trusts(_ entry: ActionEntry, for actionID: Digest) -> Bool {
        entry.signatures.contains { signature in
            guard let candidates = keys[signature.keyName] else { return false }
            let message = EntrySignature.message(actionID: actionID, entry: entry, keyName: signature.keyName)
            return candidates.contains { $0.verifies(signature.bytes, of: message) }
        }
    }
}
