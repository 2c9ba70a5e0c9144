import CASBridgeTestSupport
import Foundation
import Testing

@testable import CASBridge
@testable import CASBridgeHTTP
@testable import CASBridgeS3

/// Stores over real S3 servers started on 127.0.0.1 for one test.
enum S3Fixtures {
    /// An S3Store on a fresh SeaweedFS with a fresh bucket; `keepAlive` holds the server.
    static func seaweed(prefix: String = "ci/run") async throws -> (store: S3Store, server: SeaweedFSServer) {
        let server = try await SeaweedFSServer()
        let store = try makeStore(
            endpoint: server.endpoint, bucket: "casbridge", prefix: prefix,
            credentials: AWSCredentials(accessKeyID: server.accessKey, secretAccessKey: server.secretKey))
        try await createBucket(store, server: server.server)
        return (store, server)
    }

    /// An S3Store on a fresh moto server with a fresh bucket.
    static func moto(prefix: String = "") async throws -> (store: S3Store, server: MotoServer) {
        let server = try await MotoServer()
        let store = try makeStore(
            endpoint: server.endpoint, bucket: "casbridge-moto", prefix: prefix,
            credentials: AWSCredentials(accessKeyID: "AKIDMOTO", secretAccessKey: "moto-secret"))
        try await createBucket(store, server: server.server)
        return (store, server)
    }

    static func makeStore(endpoint: String, bucket: String, prefix: String, credentials: AWSCredentials) throws
        -> S3Store
    {
        let path = prefix.isEmpty ? "" : "/\(prefix)"
        let location = try S3Location(
            url: "s3://\(bucket)\(path)?endpoint=\(endpoint)&region=us-east-1",
            environment: AWSEnvironment(home: "/nonexistent", variables: [:]))
        var options = HTTPClient.Options()
        options.requestTimeout = .seconds(30)
        return S3Store(location: location, credentials: credentials, client: HTTPClient(options: options))
    }

    /// A store on the same bucket and prefix as `store` that uploads plain bodies (`zstd=off`).
    static func plainTwin(of store: S3Store, _ credentials: AWSCredentials) -> S3Store {
        var location = store.location
        location.compresses = false
        return S3Store(location: location, credentials: credentials, client: HTTPClient(options: HTTPClient.Options()))
    }

    /// Creates the bucket, retrying while the server finishes starting.
    static func createBucket(_ store: S3Store, server: ServerProcess) async throws {
        try await server.retryWhileStarting("create the bucket") { try await store.createBucket() }
    }
}

@Suite("S3 store", .serialized)
struct S3StoreTests {
    static func write(_ bytes: [UInt8], in dir: TemporaryDirectory, _ name: String) -> String {
        let path = dir.sub(name)
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    @Test("SeaweedFS: compressible blobs travel as zstd, others as they are; reads deliver the original bytes")
    func compression() async throws {
        let (store, server) = try await S3Fixtures.seaweed()
        defer { server.stop() }
        let work = try TemporaryDirectory("s3-compression")
        let text = Array(String(repeating: "package main // a Go archive compresses well\n", count: 8000).utf8)
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let small = Array("tiny but repetitive repetitive repetitive".utf8)
        for (name, bytes, compressed) in [("text", text, true), ("noise", noise, false), ("small", small, false)] {
            let digest = SHA256.hash(bytes)
            try await store.writeBlob(digest, size: Int64(bytes.count), from: Self.write(bytes, in: work, name))
            let head = try await store.send("HEAD", key: store.location.key("cas", digest.hex))
            #expect(head.status == 200)
            #expect((S3Store.header(head, S3Store.encodingHeader) == "zstd") == compressed, "\(name): encoding marker")
            if compressed {
                #expect(
                    Int(S3Store.header(head, "content-length") ?? "") ?? .max < bytes.count / 10, "\(name): stored size"
                )
            }
            let out = work.sub("\(name).out")
            #expect(try await store.readBlob(digest, size: Int64(bytes.count), into: out))
            #expect(try FileSystem.readFile(out) == bytes, "\(name): bytes after the round trip")
        }
        let stats = store.compressionStatistics
        #expect(stats.compressedBlobs == 2)  // up and down
        #expect(stats.ratio > 1.5)

        // zstd=off: the same compressible bytes are stored plain, and still read back.
        var plainLocation = store.location
        plainLocation.compresses = false
        let plain = S3Store(
            location: plainLocation,
            credentials: AWSCredentials(accessKeyID: server.accessKey, secretAccessKey: server.secretKey),
            client: HTTPClient(options: HTTPClient.Options()))
        let plainText = text + Array("plain".utf8)
        let digest = SHA256.hash(plainText)
        try await plain.writeBlob(digest, size: Int64(plainText.count), from: Self.write(plainText, in: work, "plain"))
        let head = try await plain.send("HEAD", key: plain.location.key("cas", digest.hex))
        #expect(S3Store.header(head, S3Store.encodingHeader) == nil, "zstd=off stores no encoding marker")
        #expect(Int(S3Store.header(head, "content-length") ?? "") == plainText.count, "stored as it is")
        #expect(try await store.readBlob(digest, size: Int64(plainText.count), into: work.sub("plain.out")))
        #expect(try FileSystem.readFile(work.sub("plain.out")) == plainText)
    }

    @Test("SeaweedFS: a blob marked zstd by metadata alone (no Content-Encoding) is decompressed too")
    func metadataOnlyMarker() async throws {
        let (store, server) = try await S3Fixtures.seaweed()
        defer { server.stop() }
        let bytes = Array(String(repeating: "abcdefgh", count: 4096).utf8)
        let digest = SHA256.hash(bytes)
        let compressed = Zstd.compress(bytes)
        let key = store.location.key("cas", digest.hex)
        let put = try await store.send(
            "PUT", key: key, headers: [(S3Store.encodingHeader, "zstd")], payloadHash: SHA256.hash(compressed).hex,
            body: .bytes(compressed))
        #expect(put.isSuccess)
        let work = try TemporaryDirectory("s3-marker")
        #expect(try await store.readBlob(digest, size: Int64(bytes.count), into: work.sub("out")))
        #expect(try FileSystem.readFile(work.sub("out")) == bytes)
    }

    @Test("SeaweedFS: small outputs are inlined in the action entry: a hit needs one request")
    func inlineSmallOutputs() async throws {
        let (writer, server) = try await S3Fixtures.seaweed()
        defer { server.stop() }
        let work = try TemporaryDirectory("s3-inline")
        let bytes = Array("a small Go output \(UUID())".utf8)
        let digest = SHA256.hash(bytes)
        try await writer.writeBlob(digest, size: Int64(bytes.count), from: Self.write(bytes, in: work, "small"))
        let actionID = SHA256.hash(Array("inline action \(UUID())".utf8))
        let entry = ActionEntry(
            outputID: digest, size: Int64(bytes.count), time: Timestamp(nanoseconds: 1_700_000_000_000_000_007))
        try await writer.record(entry, for: actionID)
        // Remove the blob object: a reader can only succeed through the inlined bytes.
        let delete = try await writer.send("DELETE", key: writer.location.key("cas", digest.hex))
        #expect(delete.isSuccess, "DELETE: HTTP \(delete.status)")
        let reader = try await S3Fixtures.makeStore(
            endpoint: server.endpoint, bucket: "casbridge", prefix: "ci/run",
            credentials: AWSCredentials(accessKeyID: server.accessKey, secretAccessKey: server.secretKey))
        #expect(try await reader.entry(for: actionID) == entry)
        #expect(try await reader.readBlob(digest, size: Int64(bytes.count), into: work.sub("out")))
        #expect(try FileSystem.readFile(work.sub("out")) == bytes)
        // Without the entry first, the (deleted) blob is simply absent.
        #expect(try await reader.readBlob(digest, size: Int64(bytes.count), into: work.sub("again")) == false)
        // Any REAPI reader sees a normal ActionResult.
        let raw = try await reader.send(
            "GET", key: reader.location.key("ac", ActionMapping.actionKey(for: actionID).digest.hex))
        #expect(ActionMapping.entry(fromActionResult: raw.body) == entry)
        #expect(ActionMapping.inlineContents(fromActionResult: raw.body) == bytes)
    }

    @Test("SeaweedFS: wrong credentials are .unauthorized with the S3 code, never the secret or signature")
    func wrongCredentials() async throws {
        let (good, server) = try await S3Fixtures.seaweed()
        defer { server.stop() }
        let wrongSecret = "wrong-secret-\(UUID().uuidString)"
        let bad = try await S3Fixtures.makeStore(
            endpoint: server.endpoint, bucket: "casbridge", prefix: "ci/run",
            credentials: AWSCredentials(accessKeyID: server.accessKey, secretAccessKey: wrongSecret))
        let actionID = SHA256.hash(Array("some action".utf8))
        do {
            _ = try await bad.entry(for: actionID)
            Issue.record("a wrong secret was accepted")
        } catch let error as CASError {
            #expect(error.code == .unauthorized)
            #expect(error.message.contains("SignatureDoesNotMatch"), "\(error.message)")
            #expect(!error.description.contains(wrongSecret))
            #expect(!error.description.contains("Signature="))
            #expect(error.message.contains("s3://casbridge/ci/run/ac/"))
        }
        let unknownKey = try await S3Fixtures.makeStore(
            endpoint: server.endpoint, bucket: "casbridge", prefix: "",
            credentials: AWSCredentials(accessKeyID: "AKIDUNKNOWN", secretAccessKey: wrongSecret))
        do {
            _ = try await unknownKey.entry(for: actionID)
            Issue.record("an unknown access key was accepted")
        } catch let error as CASError {
            #expect(error.code == .unauthorized)
            #expect(error.message.contains("InvalidAccessKeyId"), "\(error.message)")
            #expect(!error.description.contains(wrongSecret))
        }
        // The right credentials still work against the same server.
        #expect(try await good.entry(for: actionID) == nil)
    }

    @Test("moto: a missing bucket is reported as NoSuchBucket naming the bucket")
    func missingBucket() async throws {
        let server = try await MotoServer()
        defer { server.stop() }
        let store = try await S3Fixtures.makeStore(
            endpoint: server.endpoint, bucket: "no-such-bucket-here", prefix: "p",
            credentials: AWSCredentials(accessKeyID: "AKIDMOTO", secretAccessKey: "moto-secret"))
        let work = try TemporaryDirectory("s3-nobucket")
        let bytes = Array("x".utf8)
        do {
            try await store.writeBlob(SHA256.hash(bytes), size: 1, from: Self.write(bytes, in: work, "x"))
            Issue.record("a PUT into a missing bucket succeeded")
        } catch let error as CASError {
            #expect(error.code == .remote)
            #expect(error.message.contains("NoSuchBucket"), "\(error.message)")
            #expect(error.message.contains("no-such-bucket-here"))
        }
    }
}
