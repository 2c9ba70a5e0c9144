/// A blob carried inside an action entry, next to the entry itself: the warm manifest's
/// own bytes and the first outputs the go command asks for, so that a run with an empty
/// local store has them after one request instead of three. Attached bytes are untrusted
/// like any download: the receiver hashes them and keeps only those that match `digest`.
public struct AttachedBlob: Equatable, Sendable {
    /// The blob's SHA-256, as the writer claims it.
    public var digest: Digest
    /// Its bytes.
    public var bytes: [UInt8]

    /// Creates an attachment.
    public init(digest: Digest, bytes: [UInt8]) {
        self.digest = digest
        self.bytes = bytes
    }

    /// Whether `bytes` hash to `digest`.
    public var isIntact: Bool { SHA256.hash(bytes) == digest }
}
