import CASBridge
import CASBridgeTestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization
import Testing

@testable import CASBridgeREAPI

/// zstd over REAPI (`compressed-blobs/zstd`, compressed batch calls) against an in-process
/// server: BuildGrid, the real server of the other suites, does not support compression.
@Suite("REAPI zstd")
struct REAPICompressionTests {
    static let compressible = Array(String(repeating: "package main // compressible archive\n", count: 9000).utf8)

    static func store(_ server: FakeREAPIServer) throws -> REAPIStore {
        var configuration = RemoteConfiguration(url: "grpc://127.0.0.1:\(server.port)/fake")
        configuration.connectTimeout = .seconds(30)
        configuration.requestTimeout = .seconds(30)
        return try REAPIStore(configuration: configuration)
    }

    @Test("a server that supports zstd gets and serves compressed blobs; what is read back is the original")
    func roundTrip() async throws {
        let server = try await FakeREAPIServer.start()
        defer { server.stop() }
        let store = try Self.store(server)
        defer { store.shutdown() }
        #expect(await store.capabilities().zstdStreams, "the server's capabilities were read")
        let dir = try TemporaryDirectory("reapi-zstd")
        var rng = SystemRandomNumberGenerator()
        let blobs: [(name: String, bytes: [UInt8])] = [
            ("small", Array(Self.compressible.prefix(20_000))),  // a batch call (limit 64 KiB)
            ("large", Self.compressible),  // ByteStream
            ("noise", (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &rng) }),  // ByteStream, plain
        ]
        for blob in blobs {
            let path = dir.sub(blob.name)
            try FileSystem.writeFileAtomically(path, blob.bytes)
            try await store.writeBlob(SHA256.hash(blob.bytes), size: Int64(blob.bytes.count), from: path)
        }
        for blob in blobs {
            #expect(server.stored(SHA256.hash(blob.bytes)) == blob.bytes, "\(blob.name) stored as the original")
        }
        #expect(server.events.contains("BatchUpdateBlobs zstd \(SHA256.hash(blobs[0].bytes).hex)"))
        #expect(server.events.contains("Write zstd \(SHA256.hash(blobs[1].bytes).hex)"))
        #expect(server.events.contains("Write plain \(SHA256.hash(blobs[2].bytes).hex)"), "noise does not pay")

        for blob in blobs {
            let digest = SHA256.hash(blob.bytes)
            let out = dir.sub("\(blob.name).out")
            let hash = try await store.readBlobHashed(digest, size: Int64(blob.bytes.count), into: out)
            #expect(hash?.digest == digest && hash?.size == Int64(blob.bytes.count), "\(blob.name)")
            #expect(try FileSystem.readFile(out) == blob.bytes)
        }
        #expect(server.events.contains("BatchReadBlobs zstd \(SHA256.hash(blobs[0].bytes).hex)"))
        #expect(server.events.contains("Read zstd \(SHA256.hash(blobs[1].bytes).hex)"))
        let stats = store.compressionStatistics
        #expect(stats.compressedBlobs >= 4 && stats.ratio > 2, "\(stats)")
    }

    @Test("compressed answers that decode to other bytes, or end early, are never taken for the blob")
    func damagedAnswers() async throws {
        let server = try await FakeREAPIServer.start()
        defer { server.stop() }
        let store = try Self.store(server)
        defer { store.shutdown() }
        #expect(await store.capabilities().zstdStreams, "the server's capabilities were read")
        let dir = try TemporaryDirectory("reapi-zstd-bad")
        let small = Array(Self.compressible.prefix(20_000))
        let large = Self.compressible
        for bytes in [small, large] { server.put(bytes) }
        // The same length, other content: the hash of what was written says so.
        server.damage(SHA256.hash(small), .otherContent)
        let hash = try await store.readBlobHashed(SHA256.hash(small), size: Int64(small.count), into: dir.sub("s"))
        #expect(server.events.contains("BatchReadBlobs zstd \(SHA256.hash(small).hex)"))
        #expect(hash != nil && hash?.digest != SHA256.hash(small))
        // A stream cut in the middle of the zstd frame is an error, not a short blob.
        server.damage(SHA256.hash(large), .truncated)
        await #expect(throws: CASError.self) {
            _ = try await store.readBlobHashed(SHA256.hash(large), size: Int64(large.count), into: dir.sub("l"))
        }
        // Data that is no zstd at all fails the batch read of that blob.
        server.damage(SHA256.hash(small), .notZstd)
        await #expect(throws: CASError.self) {
            _ = try await store.readBlobHashed(SHA256.hash(small), size: Int64(small.count), into: dir.sub("s2"))
        }
    }
}

/// An in-memory REAPI CAS with zstd support (Capabilities, ContentAddressableStorage,
/// ByteStream) on 127.0.0.1, logging what travelled compressed.
final class FakeREAPIServer: Sendable {
    enum Damage { case otherContent, truncated, notZstd }
    typealias V2 = Build_Bazel_Remote_Execution_V2_ContentAddressableStorage

    private struct State {
        var blobs: [Digest: [UInt8]] = [:]
        var events: [String] = []
        var damaged: [Digest: Damage] = [:]
    }

    private let state = Mutex(State())
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let task: Task<Void, any Error>
    let port: Int

    private init(server: GRPCServer<HTTP2ServerTransport.Posix>, task: Task<Void, any Error>, port: Int) {
        self.server = server
        self.task = task
        self.port = port
    }

    static func start() async throws -> FakeREAPIServer {
        let services = Services()
        let server = GRPCServer(
            transport: HTTP2ServerTransport.Posix(
                address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext),
            services: [services.capabilities, services.cas, services.byteStream])
        let task = Task { try await server.serve() }
        guard let port = try await server.listeningAddress?.ipv4?.port else {
            throw CASError(.remote, "the fake REAPI server did not start listening")
        }
        let fake = FakeREAPIServer(server: server, task: task, port: port)
        services.owner.withLock { $0 = fake }
        return fake
    }

    func stop() {
        server.beginGracefulShutdown()
        task.cancel()
    }

    var events: [String] { state.withLock { $0.events } }
    func stored(_ digest: Digest) -> [UInt8]? { state.withLock { $0.blobs[digest] } }
    func put(_ bytes: [UInt8]) { state.withLock { $0.blobs[SHA256.hash(bytes)] = bytes } }
    func damage(_ digest: Digest, _ damage: Damage) { state.withLock { $0.damaged[digest] = damage } }
    func log(_ event: String) { state.withLock { $0.events.append(event) } }

    /// What the server sends for `digest` compressed: the blob's frame, or a damaged one.
    func compressedAnswer(_ digest: Digest) -> [UInt8]? {
        let (blob, damage) = state.withLock { ($0.blobs[digest], $0.damaged[digest]) }
        guard let blob else { return nil }
        switch damage {
        case nil: return Zstd.compress(blob)
        case .otherContent: return Zstd.compress(blob.map { $0 ^ 1 })
        case .truncated:
            let frame = Zstd.compress(blob)
            return Array(frame.prefix(frame.count / 2))
        case .notZstd: return Array("not a zstd frame".utf8)
        }
    }

    /// Stores `data` (decompressed if `zstd`) as blob `hash`/`size` if it is that blob.
    func accept(_ data: [UInt8], zstd: Bool, hash: String, size: Int64) -> Bool {
        guard let plain = zstd ? Zstd.decompress(data) : data, Int64(plain.count) == size,
            SHA256.hash(plain).hex == hash
        else { return false }
        put(plain)
        return true
    }

    /// The RPC services, pointing back at the server once it is up.
    final class Services: Sendable {
        let owner = Mutex<FakeREAPIServer?>(nil)
        var fake: FakeREAPIServer { owner.withLock { $0! } }
        var capabilities: CapabilitiesService { CapabilitiesService() }
        var cas: CASService { CASService(services: self) }
        var byteStream: ByteStreamService { ByteStreamService(services: self) }
    }

    struct CapabilitiesService: Build_Bazel_Remote_Execution_V2_Capabilities.SimpleServiceProtocol {
        func getCapabilities(
            request: Build_Bazel_Remote_Execution_V2_GetCapabilitiesRequest, context: ServerContext
        ) async throws -> Build_Bazel_Remote_Execution_V2_ServerCapabilities {
            var answer = Build_Bazel_Remote_Execution_V2_ServerCapabilities()
            answer.cacheCapabilities.digestFunctions = [.sha256]
            answer.cacheCapabilities.maxBatchTotalSizeBytes = 64 * 1024
            answer.cacheCapabilities.supportedCompressors = [.zstd]
            answer.cacheCapabilities.supportedBatchUpdateCompressors = [.zstd]
            return answer
        }
    }

    struct CASService: V2.SimpleServiceProtocol {
        let services: Services

        func findMissingBlobs(
            request: Build_Bazel_Remote_Execution_V2_FindMissingBlobsRequest, context: ServerContext
        ) async throws -> Build_Bazel_Remote_Execution_V2_FindMissingBlobsResponse {
            var answer = Build_Bazel_Remote_Execution_V2_FindMissingBlobsResponse()
            answer.missingBlobDigests = request.blobDigests.filter {
                services.fake.stored(Digest(hex: $0.hash) ?? .empty) == nil
            }
            return answer
        }

        func batchUpdateBlobs(
            request: Build_Bazel_Remote_Execution_V2_BatchUpdateBlobsRequest, context: ServerContext
        ) async throws -> Build_Bazel_Remote_Execution_V2_BatchUpdateBlobsResponse {
            var answer = Build_Bazel_Remote_Execution_V2_BatchUpdateBlobsResponse()
            answer.responses = request.requests.map { r in
                let zstd = r.compressor == .zstd
                services.fake.log("BatchUpdateBlobs \(zstd ? "zstd" : "plain") \(r.digest.hash)")
                var response = Build_Bazel_Remote_Execution_V2_BatchUpdateBlobsResponse.Response()
                response.digest = r.digest
                if !services.fake.accept([UInt8](r.data), zstd: zstd, hash: r.digest.hash, size: r.digest.sizeBytes) {
                    response.status.code = 3
                }
                return response
            }
            return answer
        }

        func batchReadBlobs(
            request: Build_Bazel_Remote_Execution_V2_BatchReadBlobsRequest, context: ServerContext
        ) async throws -> Build_Bazel_Remote_Execution_V2_BatchReadBlobsResponse {
            var answer = Build_Bazel_Remote_Execution_V2_BatchReadBlobsResponse()
            answer.responses = request.digests.map { d in
                var response = Build_Bazel_Remote_Execution_V2_BatchReadBlobsResponse.Response()
                response.digest = d
                let digest = Digest(hex: d.hash) ?? .empty
                if request.acceptableCompressors.contains(.zstd), let data = services.fake.compressedAnswer(digest) {
                    services.fake.log("BatchReadBlobs zstd \(d.hash)")
                    response.data = Data(data)
                    response.compressor = .zstd
                } else if let data = services.fake.stored(digest) {
                    services.fake.log("BatchReadBlobs plain \(d.hash)")
                    response.data = Data(data)
                } else {
                    response.status.code = 5
                }
                return response
            }
            return answer
        }
    }

    struct ByteStreamService: Google_Bytestream_ByteStream.SimpleServiceProtocol {
        let services: Services

        func read(
            request: Google_Bytestream_ReadRequest, response: RPCWriter<Google_Bytestream_ReadResponse>,
            context: ServerContext
        ) async throws {
            let parts = request.resourceName.split(separator: "/").map(String.init)
            let zstd = parts.count == 5 && parts[1] == "compressed-blobs" && parts[2] == "zstd"
            guard zstd || (parts.count == 4 && parts[1] == "blobs"), let digest = Digest(hex: parts[parts.count - 2])
            else { throw RPCError(code: .invalidArgument, message: "bad resource \(request.resourceName)") }
            services.fake.log("Read \(zstd ? "zstd" : "plain") \(digest.hex)")
            guard let data = zstd ? services.fake.compressedAnswer(digest) : services.fake.stored(digest) else {
                throw RPCError(code: .notFound, message: "no blob \(digest)")
            }
            var offset = 0
            repeat {
                var message = Google_Bytestream_ReadResponse()
                message.data = Data(data[offset..<min(offset + 16_384, data.count)])
                offset += message.data.count
                try await response.write(message)
            } while offset < data.count
        }

        func write(
            request: RPCAsyncSequence<Google_Bytestream_WriteRequest, any Error>, context: ServerContext
        ) async throws -> Google_Bytestream_WriteResponse {
            var resource = ""
            var data: [UInt8] = []
            for try await message in request {
                if resource.isEmpty { resource = message.resourceName }
                guard message.writeOffset == Int64(data.count) else {
                    throw RPCError(code: .invalidArgument, message: "write_offset \(message.writeOffset)")
                }
                data += message.data
            }
            let parts = resource.split(separator: "/").map(String.init)
            let zstd = parts.count == 7 && parts[3] == "compressed-blobs" && parts[4] == "zstd"
            guard zstd || (parts.count == 6 && parts[3] == "blobs"), let size = Int64(parts[parts.count - 1]) else {
                throw RPCError(code: .invalidArgument, message: "bad resource \(resource)")
            }
            let hash = parts[parts.count - 2]
            services.fake.log("Write \(zstd ? "zstd" : "plain") \(hash)")
            guard services.fake.accept(data, zstd: zstd, hash: hash, size: size) else {
                throw RPCError(code: .invalidArgument, message: "the data is not blob \(hash)")
            }
            var answer = Google_Bytestream_WriteResponse()
            answer.committedSize = Int64(data.count)
            return answer
        }
    }
}
