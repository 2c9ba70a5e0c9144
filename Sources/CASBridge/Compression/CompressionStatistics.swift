/// What wire compression did for a remote store's transfers: bytes before and after.
public struct CompressionStatistics: Sendable, Equatable, Codable {
    /// Blob bytes as stored locally (uncompressed), for transfers of either direction.
    public var rawBytes: Int64 = 0
    /// The same blobs' bytes on the wire.
    public var wireBytes: Int64 = 0
    /// Blobs that travelled compressed.
    public var compressedBlobs = 0
    /// Blobs that travelled as they are.
    public var plainBlobs = 0

    /// Creates empty statistics.
    public init() {}

    /// Raw bytes per wire byte (1 when nothing was compressed or nothing moved).
    public var ratio: Double {
        wireBytes > 0 ? Double(rawBytes) / Double(wireBytes) : 1
    }

    /// Counts one blob transfer.
    public mutating func add(raw: Int64, wire: Int64) {
        rawBytes += raw
        wireBytes += wire
        if wire < raw { compressedBlobs += 1 } else { plainBlobs += 1 }
    }
}
