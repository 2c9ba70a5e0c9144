/// The SHA-256 digest and size of a file's content.
public struct ContentHash: Sendable, Hashable, CustomStringConvertible {
    /// The SHA-256 of the content.
    public var digest: Digest
    /// The content's length in bytes.
    public var size: Int64

    /// Creates a hash from its parts.
    public init(digest: Digest, size: Int64) {
        self.digest = digest
        self.size = size
    }

    /// Hashes the file at `path`.
    public init(file path: String) throws {
        (digest, size) = try FileSystem.hashFile(path)
    }

    /// Hashes bytes in memory.
    public init(bytes: some ContiguousBytes) {
        digest = SHA256.hash(bytes)
        size = Int64(bytes.withUnsafeBytes { $0.count })
    }

    public var description: String { "\(digest) (\(size) bytes)" }
}
