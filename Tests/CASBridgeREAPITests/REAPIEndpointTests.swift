import CASBridge
import CASBridgeREAPI
import Testing

@Suite("REAPI endpoint URLs")
struct REAPIEndpointTests {
    @Test func hostPortInstance() throws {
        let e = try REAPIEndpoint(url: "grpc://127.0.0.1:8980/main/sub")
        #expect(e.host == "127.0.0.1")
        #expect(e.port == 8980)
        #expect(!e.tls)
        #expect(e.instanceName == "main/sub")
        #expect(e.description == "grpc://127.0.0.1:8980/main/sub")
    }

    @Test func tlsDefaultsAndIPv6() throws {
        let a = try REAPIEndpoint(url: "grpcs://remote.buildbuddy.io")
        #expect(a.tls && a.port == 443 && a.instanceName == "")
        let b = try REAPIEndpoint(url: "GRPC://[::1]:9092/")
        #expect(b.host == "::1" && b.port == 9092 && !b.tls && b.instanceName == "")
    }

    @Test func rejectsBadURLs() {
        for url in ["http://x:1", "grpc://", "grpc://host:0", "grpc://host:abc", "grpc://user:secret@host:1"] {
            #expect(throws: CASError.self, "\(url)") { try REAPIEndpoint(url: url) }
        }
    }
}
