import CASBridge
import CASBridgeTestSupport
import Foundation
import Testing

@testable import CASBridgeREAPI

/// The gRPC backend against a real BuildGrid server (one per test process).
@Suite("REAPI store against BuildGrid", .serialized)
struct REAPIStoreTests {
    let server: BuildGridServer

    init() async throws {
        server = try await BuildGridServer.shared()
    }

    func makeStore(headers: [(name: String, value: String)] = []) throws -> REAPIStore {
        var configuration = RemoteConfiguration(url: server.url)
        configuration.grpcHeaders = headers
        configuration.requestTimeout = .seconds(30)
        // The whole suite runs in parallel on 2 cores: give a busy BuildGrid time for its first answer.
        configuration.connectTimeout = .seconds(30)
        return try REAPIStore(configuration: configuration)
    }

    @Test("conformance: blobs round-trip; absent blobs are reported missing")
    func blobConformance() async throws {
        let store = try makeStore()
        try await StoreConformance.blobRoundTrip(store, backend: "grpc")
    }

    @Test("conformance: action entries round-trip with their time")
    func actionConformance() async throws {
        let store = try makeStore()
        try await StoreConformance.actionRoundTrip(store, backend: "grpc")
    }

    @Test("conformance: blobs attached to an action entry come back with it")
    func attachmentConformance() async throws {
        let store = try makeStore()
        try await StoreConformance.attachedBlobs(store, backend: "grpc", carries: true)
    }

    @Test("conformance: a blob over the batch limit, the empty blob, mixed missingBlobs, retried reads")
    func edgeConformance() async throws {
        let store = try makeStore()
        try await Self.edges(store, backend: "grpc")
    }

    /// The edge cases of `StoreConformance` against `store`, with a blob just over the
    /// server's batch limit so that it takes the ByteStream path.
    static func edges(_ store: REAPIStore, backend: String) async throws {
        let limit = await store.batchLimit()
        try await StoreConformance.largeBlob(store, backend: backend, size: Int(limit) + 1 << 20)
        try await StoreConformance.emptyBlob(store, backend: backend)
        try await StoreConformance.mixedMissing(store, backend: backend)
        // BuildGrid stores plain bodies only: the compressed case runs on the zstd server of REAPICompressionTests.
        try await StoreConformance.compressedAndPlain(
            compressing: store, plain: store, compresses: false, backend: backend)
        try await StoreConformance.retriedRead(store, backend: backend)
    }

    @Test(
        "grpcs:// speaks TLS: a self-signed server works with --insecure, is refused without it, and never downgrades")
    func tls() async throws {
        let directory = try TemporaryDirectory("buildgrid-tls")
        let files = try await BuildGridServer.TLSFiles.selfSigned(in: directory)
        let tlsServer = try await BuildGridServer(instanceName: "tls", tls: files)
        defer { tlsServer.stop() }
        #expect(tlsServer.url == "grpcs://127.0.0.1:\(tlsServer.port)/tls")

        var configuration = RemoteConfiguration(url: tlsServer.url)
        configuration.insecure = true
        configuration.connectTimeout = .seconds(30)
        configuration.requestTimeout = .seconds(30)
        let store = try REAPIStore(configuration: configuration)
        try await StoreConformance.blobRoundTrip(store, backend: "grpcs")
        try await StoreConformance.actionRoundTrip(store, backend: "grpcs")
        try await Self.edges(store, backend: "grpcs")

        // Certificates are verified unless asked otherwise: this one is self-signed.
        let probe = SHA256.hash(Array("tls probe".utf8))
        var verifying = RemoteConfiguration(url: tlsServer.url)
        verifying.connectTimeout = .seconds(10)
        verifying.requestTimeout = .seconds(10)
        let strict = try REAPIStore(configuration: verifying)
        let refused = await #expect(throws: CASError.self) { try await strict.entry(for: probe) }
        #expect(refused?.message.contains("127.0.0.1:\(tlsServer.port)") == true, "\(String(describing: refused))")

        // Plain gRPC to the TLS port is not a silent downgrade either.
        var plain = RemoteConfiguration(url: "grpc://127.0.0.1:\(tlsServer.port)/tls")
        plain.connectTimeout = .seconds(10)
        plain.requestTimeout = .seconds(10)
        let plainStore = try REAPIStore(configuration: plain)
        await #expect(throws: CASError.self) { try await plainStore.entry(for: probe) }
    }

    @Test("blobs above the batch limit go through ByteStream, both ways")
    func largeBlobs() async throws {
        let store = try makeStore()
        let work = try TemporaryDirectory("reapi-large")
        for size in [4 * 1024 * 1024 + 1, 9 * 1024 * 1024 + 12345] {
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<size / 8 + 1).flatMap { _ in withUnsafeBytes(of: generator.next()) { Array($0) } }
            let blob = Array(bytes.prefix(size))
            let digest = SHA256.hash(blob)
            try Data(blob).write(to: URL(fileURLWithPath: work.sub("in")))
            #expect(try await store.missingBlobs(sized: [(digest, Int64(size))]) == [digest])
            try await store.writeBlob(digest, size: Int64(size), from: work.sub("in"))
            #expect(try await store.missingBlobs(sized: [(digest, Int64(size))]).isEmpty)
            // A fresh store (no sizes learnt) still finds it with the size.
            #expect(try await makeStore().missingBlobs(sized: [(digest, Int64(size))]).isEmpty)
            #expect(try await store.readBlob(digest, size: Int64(size), into: work.sub("out")))
            #expect(try Data(contentsOf: URL(fileURLWithPath: work.sub("out"))) == Data(blob))
            let sink = CollectingSink()
            #expect(try await store.readBlob(digest, size: Int64(size), to: sink))
            #expect(sink.bytes == blob, "streamed to a sink through ByteStream")
            let absent = SHA256.hash(blob + [1])
            #expect(try await store.readBlob(absent, size: Int64(size + 1), into: work.sub("absent")) == false)
        }
    }

    @Test("an entry written over gRPC is a proper ActionResult for a non-Swift REAPI client")
    func readableByPythonClient() async throws {
        let python = try #require(
            TestPaths.venvTool("python"), "no .tools/venv/bin/python: run scripts/install-deps.sh")
        let store = try makeStore()
        let work = try TemporaryDirectory("reapi-python")
        for size in [100, 5 * 1024 * 1024] {
            let blob = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
            let digest = SHA256.hash(blob)
            try Data(blob).write(to: URL(fileURLWithPath: work.sub("blob")))
            let actionID = SHA256.hash(Array("python action \(UUID())".utf8))
            try await store.writeBlob(digest, size: Int64(size), from: work.sub("blob"))
            try await store.record(ActionEntry(outputID: digest, size: Int64(size), time: .now()), for: actionID)
            let key = ActionMapping.actionKey(for: actionID)
            let check = try await ProcessRunner.run([
                python, "\(TestPaths.repoRoot)/Tests/CASBridgeREAPITests/reapi_client.py", "check",
                "--target", "127.0.0.1:\(server.port)", "--instance", server.instanceName,
                "--action-id", actionID.hex, "--output", digest.hex, "--size", "\(size)",
            ])
            #expect(check.status == 0, "\(check.output)")
            #expect(check.stdout.contains("\"action_digest\": \"\(key.digest.hex)/\(key.size)\""), "\(check.stdout)")
        }
    }

    @Test("an entry written by another REAPI client is read, with its time")
    func writtenByPythonClient() async throws {
        let python = try #require(
            TestPaths.venvTool("python"), "no .tools/venv/bin/python: run scripts/install-deps.sh")
        let actionID = SHA256.hash(Array("python writer \(UUID())".utf8))
        let content = "written by python \(UUID())"
        let write = try await ProcessRunner.run([
            python, "\(TestPaths.repoRoot)/Tests/CASBridgeREAPITests/reapi_client.py", "write",
            "--target", "127.0.0.1:\(server.port)", "--instance", server.instanceName,
            "--action-id", actionID.hex, "--content", content,
        ])
        #expect(write.status == 0, "\(write.output)")
        let store = try makeStore()
        let entry = try #require(try await store.entry(for: actionID))
        #expect(entry.outputID == SHA256.hash(Array(content.utf8)))
        #expect(entry.time == Timestamp(nanoseconds: 1_600_000_000 * 1_000_000_000))
        let work = try TemporaryDirectory("reapi-python")
        #expect(try await store.readBlob(entry.outputID, size: entry.size, into: work.sub("out")))
        #expect(try String(contentsOfFile: work.sub("out"), encoding: .utf8) == content)
    }

    @Test("an unreachable server fails fast with a CASError that names it and hides the headers")
    func unreachable() async throws {
        let port = Network.freePort()
        var configuration = RemoteConfiguration(url: "grpc://127.0.0.1:\(port)/inst")
        configuration.grpcHeaders = [("authorization", "Bearer sekrit-token"), ("x-buildbuddy-api-key", "sekrit-key")]
        configuration.connectTimeout = .seconds(2)
        let store = try REAPIStore(configuration: configuration)
        let start = Date()
        do {
            _ = try await store.entry(for: SHA256.hash(Array("x".utf8)))
            Issue.record("a call to a closed port succeeded")
        } catch let error as CASError {
            #expect(error.description.contains("127.0.0.1:\(port)/inst"), "\(error)")
            #expect(!error.description.contains("sekrit"), "\(error)")
        }
        #expect(Date().timeIntervalSince(start) < 5)
    }
}
