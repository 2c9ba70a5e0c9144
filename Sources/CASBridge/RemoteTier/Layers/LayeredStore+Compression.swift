extension LayeredStore: CompressionReporting {
    /// What wire compression did across every layer: the written store's transfers and the read-only stores'.
    package var compressionStatistics: CompressionStatistics {
        var total = CompressionStatistics()
        for layer in [written] + readOnly {
            guard let s = (layer as? any CompressionReporting)?.compressionStatistics else { continue }
            total.rawBytes += s.rawBytes
            total.wireBytes += s.wireBytes
            total.compressedBlobs += s.compressedBlobs
            total.plainBlobs += s.plainBlobs
        }
        return total
    }
}
