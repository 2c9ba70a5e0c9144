import CASBridge
import CASBridgeTestSupport
import Testing

extension LayeredStoreTests {
    /// A store that reports fixed compression statistics.
    final class Compressing: ForwardingStore, CompressionReporting, @unchecked Sendable {
        let statistics: CompressionStatistics
        init(_ inner: LocalStore, raw: Int64, wire: Int64) {
            var s = CompressionStatistics()
            s.add(raw: raw, wire: wire)
            statistics = s
            super.init(inner)
        }
        var compressionStatistics: CompressionStatistics { statistics }
    }

    @Test("compression is reported across layers: the written store's transfers and the read-only stores' added up")
    func compressionAcrossLayers() throws {
        let dir = try TemporaryDirectory("layers")
        let written = Compressing(try LocalStore(directory: dir.sub("pr")), raw: 1000, wire: 250)
        let plain = try LocalStore(directory: dir.sub("plain"))
        let main = Compressing(try LocalStore(directory: dir.sub("main")), raw: 3000, wire: 3000)
        let total = LayeredStore(written: written, readOnly: [plain, main]).compressionStatistics
        #expect(total.rawBytes == 4000 && total.wireBytes == 3250)
        #expect(total.compressedBlobs == 1 && total.plainBlobs == 1)
    }
}
