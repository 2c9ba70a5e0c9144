import CASBridge
import CASBridgeREAPI
import CASBridgeTestSupport
import Testing

/// Signed entries over REAPI: a real BuildGrid keeps the signature inside the ActionResult,
/// and a poisoned entry is refused by a `--trust signed` reader.
@Suite("REAPI signed entries")
struct REAPITrustTests {
    @Test("BuildGrid: a rewritten action entry is never served with --trust signed; --trust any serves it")
    func poisonedEntry() async throws {
        let server = try await BuildGridServer.shared()
        var configuration = RemoteConfiguration(url: server.url)
        // As REAPIStoreTests: the whole suite runs in parallel on 2 cores, so a busy BuildGrid gets time.
        configuration.connectTimeout = .seconds(30)
        configuration.requestTimeout = .seconds(30)
        let attacker = try REAPIStore(configuration: configuration)
        try await PoisonedEntryScenario(url: server.url, attacker: attacker, backend: "grpc").run()
    }
}
