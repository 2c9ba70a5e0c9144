public import CASBridge

/// The outcome of ensuring one module's tree.
public struct EnsureResult: Sendable, Codable {
    /// Where the tree came from.
    public enum Source: String, Sendable, Codable {
        /// The local store had the key and every blob.
        case local
        /// The remote store had the key; missing blobs were downloaded from it.
        case remote
        /// The go command downloaded the modules and the tree was captured.
        case downloaded
        /// The module has vendor/modules.txt: nothing to download (the tree is empty).
        case vendored
    }

    /// The module's directory.
    public var directory: String
    /// The key's ActionID (hex).
    public var key: String
    /// The root tree digest (hex).
    public var digest: String
    /// Where the tree came from.
    public var source: Source
    /// Files captured (downloads only; 0 otherwise).
    public var files: Int
    /// Bytes captured (downloads only; 0 otherwise).
    public var bytes: Int64
    /// Module zips a download took from versions the store already held (downloads only).
    public var seededModules: Int
    /// Seconds taken.
    public var seconds: Double

    /// The root tree digest.
    public var rootDigest: Digest { Digest(hex: digest)! }
}
