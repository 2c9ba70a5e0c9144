/// A remote store that compresses blobs on the wire and can say how well it did.
public protocol CompressionReporting: Sendable {
    /// The statistics of all transfers so far.
    var compressionStatistics: CompressionStatistics { get }
}
