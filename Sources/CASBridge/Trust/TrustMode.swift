/// Which remote entries a reader serves (`--trust`).
public enum TrustMode: String, Sendable, CaseIterable {
    /// Every entry the remote holds (blobs are still verified against their digests).
    case any
    /// Only entries with a valid signature from a trusted key; the others are misses.
    case signed
}
