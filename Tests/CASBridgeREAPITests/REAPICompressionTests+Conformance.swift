import CASBridgeTestSupport
import Testing

extension REAPICompressionTests {
    @Test("conformance on a zstd server: compressed bodies read back; a retried read restarts the decoder too")
    func conformance() async throws {
        let server = try await FakeREAPIServer.start()
        defer { server.stop() }
        let store = try Self.store(server)
        defer { store.shutdown() }
        try await StoreConformance.compressedAndPlain(
            compressing: store, plain: store, compresses: true, backend: "grpc zstd")
        try await StoreConformance.retriedRead(store, backend: "grpc zstd")
    }
}
