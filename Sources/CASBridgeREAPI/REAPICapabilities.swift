/// What a REAPI server said of itself in GetCapabilities, as far as the store uses it.
struct REAPICapabilities: Sendable {
    /// The largest total a batch call may carry.
    var batchLimit: Int64
    /// Whether ByteStream serves and takes `compressed-blobs/zstd/…` resources (and batch
    /// reads may answer zstd).
    var zstdStreams: Bool
    /// Whether BatchUpdateBlobs takes zstd-compressed data.
    var zstdBatchUpdates: Bool

    /// What is assumed of a server that cannot say: the default batch limit, no compression.
    static let assumed = REAPICapabilities(
        batchLimit: REAPIStore.defaultBatchLimit, zstdStreams: false, zstdBatchUpdates: false)
}
