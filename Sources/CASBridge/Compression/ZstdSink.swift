/// Decompresses a zstd stream on its way to another sink: a warm manifest's segment that
/// is stored compressed. What it passes on is checked by that sink.
final class ZstdSink: BlobSink, @unchecked Sendable {
    private let target: any BlobSink
    private var decompressor = ZstdDecompressor.take()

    /// Passes the decompressed bytes to `target`.
    init(_ target: any BlobSink) {
        self.target = target
    }

    deinit {
        decompressor.recycle()
    }

    func restart() throws {
        decompressor.recycle()
        decompressor = ZstdDecompressor.take()
        try target.restart()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try decompressor.feed(bytes) { try target.write($0) }
    }
}
