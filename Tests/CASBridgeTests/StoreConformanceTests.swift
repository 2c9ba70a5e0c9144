import CASBridge
import CASBridgeHTTP
import CASBridgeTestSupport
import Foundation
import Testing

/// One suite of behaviour every store must show, run against each backend. The checks
/// live in `StoreConformance` (TestSupport) so that CASBridgeREAPITests runs the same
/// ones against the gRPC backend without CASBridgeTests linking gRPC.
/// Backends that need a server start it through `TestServers` (loopback only).
@Suite("Store conformance", .serialized)
struct StoreConformanceTests {
    static let backends = StoreBackend.allCases

    @Test("blobs round-trip; absent blobs are reported missing", arguments: backends)
    func blobRoundTrip(_ backend: StoreBackend) async throws {
        let fixture = try await backend.makeStore()
        try await StoreConformance.blobRoundTrip(fixture.store, backend: backend.rawValue)
        withExtendedLifetime(fixture.keepAlive) {}
    }

    @Test("action entries round-trip with their time", arguments: backends)
    func actionRoundTrip(_ backend: StoreBackend) async throws {
        let fixture = try await backend.makeStore()
        try await StoreConformance.actionRoundTrip(fixture.store, backend: backend.rawValue)
        withExtendedLifetime(fixture.keepAlive) {}
    }

    @Test("blobs attached to an action entry come back with it", arguments: backends)
    func attachedBlobs(_ backend: StoreBackend) async throws {
        let fixture = try await backend.makeStore()
        try await StoreConformance.attachedBlobs(fixture.store, backend: backend.rawValue, carries: backend != .local)
        withExtendedLifetime(fixture.keepAlive) {}
    }
}

/// A store under test and whatever keeps it alive.
struct StoreFixture {
    var store: any CacheStore
    var keepAlive: [AnyObject] = []
}

/// The backends the conformance suite runs against.
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case local
    /// SeaweedFS's S3 gateway (signatures checked), through S3Store.
    case s3
    /// moto's S3, a second dialect, through S3Store.
    case moto
    /// nginx as a WebDAV server in the bazel-remote layout, through HTTPCacheStore.
    case http

    var testDescription: String { rawValue }

    func makeStore() async throws -> StoreFixture {
        switch self {
        case .local:
            let dir = try TemporaryDirectory("local-store")
            return StoreFixture(store: try LocalStore(directory: dir.path), keepAlive: [dir])
        case .s3:
            let (store, server) = try await S3Fixtures.seaweed()
            return StoreFixture(store: store, keepAlive: [server])
        case .moto:
            let (store, server) = try await S3Fixtures.moto(prefix: "conformance")
            return StoreFixture(store: store, keepAlive: [server])
        case .http:
            let nginx = try NginxServer()
            let store = try HTTPCacheStore(configuration: RemoteConfiguration(url: nginx.url))
            return StoreFixture(store: store, keepAlive: [nginx])
        }
    }
}
