import CASBridge

extension HTTPClient {
    /// What a request sends.
    public enum Body: Sendable {
        /// No body.
        case none
        /// Bytes in memory (small payloads only).
        case bytes([UInt8])
        /// The first `size` bytes of a file, streamed from disk.
        case file(path: String, size: Int64)
    }
}
