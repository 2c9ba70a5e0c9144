import CASBridge
import CASBridgeHTTP
import CASBridgeS3
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

    @Test("action entries round-trip with their time to the nanosecond", arguments: backends)
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

    @Test("edges: a blob over the gRPC batch limit, the empty blob, a mixed missingBlobs answer", arguments: backends)
    func edges(_ backend: StoreBackend) async throws {
        let fixture = try await backend.makeStore()
        try await StoreConformance.largeBlob(fixture.store, backend: backend.rawValue)
        try await StoreConformance.emptyBlob(fixture.store, backend: backend.rawValue)
        try await StoreConformance.mixedMissing(fixture.store, backend: backend.rawValue)
        withExtendedLifetime(fixture.keepAlive) {}
    }

    @Test("compressed and plain bodies of one blob read back the same; a retried read restarts", arguments: backends)
    func bodiesAndRetries(_ backend: StoreBackend) async throws {
        let fixture = try await backend.makeStore()
        try await StoreConformance.compressedAndPlain(
            compressing: fixture.store, plain: fixture.plain ?? fixture.store, compresses: fixture.compresses,
            backend: backend.rawValue)
        try await StoreConformance.retriedRead(fixture.store, backend: backend.rawValue)
        withExtendedLifetime(fixture.keepAlive) {}
    }
}

/// A store under test and whatever keeps it alive.
struct StoreFixture {
    var store: any CacheStore
    var keepAlive: [AnyObject] = []
    /// The same remote through a store that uploads plain bodies, where the backend can
    /// store a blob compressed (`store` then does).
    var plain: (any CacheStore)? = nil
    /// Whether `store` uploads compressible blobs compressed.
    var compresses = false
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
            let plain = S3Fixtures.plainTwin(
                of: store, AWSCredentials(accessKeyID: server.accessKey, secretAccessKey: server.secretKey))
            return StoreFixture(store: store, keepAlive: [server], plain: plain, compresses: true)
        case .moto:
            let (store, server) = try await S3Fixtures.moto(prefix: "conformance")
            let plain = S3Fixtures.plainTwin(
                of: store, AWSCredentials(accessKeyID: "AKIDMOTO", secretAccessKey: "moto-secret"))
            return StoreFixture(store: store, keepAlive: [server], plain: plain, compresses: true)
        case .http:
            // nginx is a plain WebDAV server: the store finds it does not decode zstd and
            // uploads plain bodies either way.
            let nginx = try await NginxServer()
            let store = try HTTPCacheStore(configuration: RemoteConfiguration(url: nginx.url))
            let plain = try HTTPCacheStore(configuration: RemoteConfiguration(url: nginx.url + "?zstd=off"))
            return StoreFixture(store: store, keepAlive: [nginx], plain: plain)
        }
    }
}
