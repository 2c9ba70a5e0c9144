import CASBridgeTestSupport
import Foundation
import Testing

@testable import CASBridge
@testable import CASBridgeHTTP

/// The bazel-remote-layout HTTP store against a real nginx (WebDAV PUT).
@Suite("HTTP cache store", .serialized)
struct HTTPCacheStoreTests {
    func store(_ url: String) throws -> HTTPCacheStore {
        try HTTPCacheStore(configuration: RemoteConfiguration(url: url))
    }

    func write(_ bytes: [UInt8], _ dir: TemporaryDirectory, _ name: String) -> (String, Digest) {
        let path = dir.sub(name)
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return (path, SHA256.hash(bytes))
    }

    static let compressible: [UInt8] = Array(String(repeating: "package main // compressible\n", count: 4000).utf8)
    static let random: [UInt8] = (0..<100_000).map { _ in UInt8.random(in: 0...255) }

    /// Writes `compressible` to the store through a file in `dir` and returns its digest.
    func putCompressible(_ store: HTTPCacheStore, _ dir: TemporaryDirectory) async throws -> Digest {
        let (path, digest) = write(Self.compressible, dir, "blob")
        try await store.writeBlob(digest, size: Int64(Self.compressible.count), from: path)
        return digest
    }

    @Test("URLs: userinfo becomes basic auth and never appears in the base URL; prefixes and zstd= parse")
    func urls() throws {
        let parsed = try HTTPCacheStore.parse(
            "https://al%40ce:s3cr%2Ft@cache.example:8443/team/a/?zstd=off")
        #expect(parsed.base == "https://cache.example:8443/team/a")
        #expect(parsed.credentials == "al@ce:s3cr/t")
        #expect(parsed.zstd == .off)
        #expect(try HTTPCacheStore.parse("http://h").base == "http://h")
        #expect(throws: CASError.self) { try HTTPCacheStore.parse("http://h/?region=x") }
        let store = try store("http://user:topsecret@127.0.0.1:1/p")
        #expect(store.baseURL == "http://127.0.0.1:1/p")
        let auth = store.headers.first { $0.name == "Authorization" }?.value
        #expect(auth == "Basic dXNlcjp0b3BzZWNyZXQ=")
        #expect(!"\(store.url("cas", .empty))".contains("topsecret"))
        #expect(store.name == "http")
    }

    @Test("a plain WebDAV server is probed once and gets uncompressed bodies")
    func probeWebDAV() async throws {
        let nginx = try await NginxServer()
        let dir = try TemporaryDirectory("http-store")
        let store = try store(nginx.url)
        let digest = try await putCompressible(store, dir)
        let stored = try Data(contentsOf: URL(fileURLWithPath: nginx.path("cas", digest.hex)))
        #expect(stored == Data(Self.compressible), "nginx must hold the plain bytes")
        #expect(await store.uploadsCompressed() == false)
        let probe = SHA256.hash(HTTPCacheStore.probeContent)
        #expect(nginx.stored("cas").contains(probe.hex))
    }

    @Test("a hashed read reports the hash of the bytes the server sent, not of the digest asked for")
    func hashedReadOfWrongContent() async throws {
        let nginx = try await NginxServer()
        let dir = try TemporaryDirectory("http-store")
        let store = try store(nginx.url)
        let digest = try await putCompressible(store, dir)
        let served = Array(Self.compressible.dropLast(7)) + Array("poison!".utf8)
        try Data(served).write(to: URL(fileURLWithPath: nginx.path("cas", digest.hex)))
        let hash = try await store.readBlobHashed(digest, size: Int64(Self.compressible.count), into: dir.sub("out"))
        #expect(hash == ContentHash(bytes: served))
        #expect(hash?.digest != digest)
        #expect(try ContentHash(file: dir.sub("out")) == hash)
    }

    @Test("small outputs are inlined in the action entry: a hit needs one request; forged inline bytes are reported")
    func inlineSmallOutputs() async throws {
        let nginx = try await NginxServer()
        let dir = try TemporaryDirectory("http-inline")
        let writer = try store(nginx.url)
        let bytes = Array("a small Go output \(UUID())".utf8)
        let (path, digest) = write(bytes, dir, "small")
        try await writer.writeBlob(digest, size: Int64(bytes.count), from: path)
        let actionID = SHA256.hash(Array("inline action \(UUID())".utf8))
        let entry = ActionEntry(
            outputID: digest, size: Int64(bytes.count), time: Timestamp(nanoseconds: 1_700_000_000_000_000_007))
        try await writer.record(entry, for: actionID)
        let acPath = nginx.path("ac", ActionMapping.actionKey(for: actionID).digest.hex)
        let stored = try FileSystem.readFile(acPath)
        #expect(ActionMapping.entry(fromActionResult: stored) == entry, "any REAPI reader sees a normal ActionResult")
        #expect(ActionMapping.inlineContents(fromActionResult: stored) == bytes)
        // Without the blob on the server, a reader can only succeed through the inlined bytes.
        try FileManager.default.removeItem(atPath: nginx.path("cas", digest.hex))
        let reader = try store(nginx.url)
        #expect(try await reader.entry(for: actionID) == entry)
        let read = try await reader.readBlobHashed(digest, size: entry.size, into: dir.sub("out"))
        #expect(read == ContentHash(bytes: bytes))
        #expect(try FileSystem.readFile(dir.sub("out")) == bytes)
        // The inlined bytes serve one read; without the entry first, the deleted blob is absent.
        #expect(try await reader.readBlob(digest, size: entry.size, into: dir.sub("again")) == false)
        // Forged inline bytes of the right size are delivered with their own hash, so the
        // caller's verification rejects them.
        let forged = Array(bytes.reversed())
        try Data(ActionMapping.actionResult(for: entry, inlining: forged)).write(to: URL(fileURLWithPath: acPath))
        #expect(try await reader.entry(for: actionID) == entry)
        let hash = try await reader.readBlobHashed(digest, size: entry.size, into: dir.sub("forged"))
        #expect(hash == ContentHash(bytes: forged))
        #expect(hash?.digest != digest)
    }

    @Test("with zstd=on, compressible blobs of 1 KiB or more go compressed; others plain")
    func compressedUploads() async throws {
        let nginx = try await NginxServer()
        let dir = try TemporaryDirectory("http-store")
        let store = try store(nginx.url + "?zstd=on")
        let small = Array(String(repeating: "a", count: 1000).utf8)
        for (name, bytes, compressed) in [
            ("big", Self.compressible, true), ("random", Self.random, false), ("small", small, false),
        ] {
            let (path, digest) = write(bytes, dir, name)
            try await store.writeBlob(digest, size: Int64(bytes.count), from: path)
            let stored = try [UInt8](Data(contentsOf: URL(fileURLWithPath: nginx.path("cas", digest.hex))))
            if compressed {
                #expect(stored.count < bytes.count * 9 / 10, "\(name)")
                #expect(Zstd.decompress(stored) == bytes, "\(name)")
            } else {
                #expect(stored == bytes, "\(name) must be sent plain")
            }
        }
    }

    @Test("undecodable action entries are misses; server errors name the URL and status")
    func errors() async throws {
        let nginx = try await NginxServer()
        let store = try store(nginx.url)
        let actionID = SHA256.hash(Array("garbage entry".utf8))
        let key = ActionMapping.actionKey(for: actionID).digest
        try Data("this is not an ActionResult".utf8).write(to: URL(fileURLWithPath: nginx.path("ac", key.hex)))
        #expect(try await store.entry(for: actionID) == nil)

        let wrong = try self.store(nginx.url + "/elsewhere")
        let dir = try TemporaryDirectory("http-store")
        let (path, digest) = write([1, 2, 3], dir, "tiny")
        do {
            try await wrong.writeBlob(digest, size: 3, from: path)
            Issue.record("PUT outside the DAV location must fail")
        } catch let error as CASError {
            #expect(error.code == .remote)
            #expect(error.message.contains("\(nginx.url)/elsewhere/cas/\(digest.hex)"), "\(error)")
            #expect(error.message.contains("405") || error.message.contains("404"), "\(error)")
        }
    }

    @Test("zstd helpers: streaming compression round-trips and reports when it does not pay")
    func zstd() throws {
        let dir = try TemporaryDirectory("zstd")
        let (plain, _) = write(Self.compressible, dir, "plain")
        let hash = try #require(try Zstd.compressFile(plain, size: Int64(Self.compressible.count), to: dir.sub("z")))
        let compressed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.sub("z"))))
        #expect(hash == ContentHash(bytes: compressed))
        #expect(Zstd.decompress(compressed) == Self.compressible)
        let (random, _) = write(Self.random, dir, "random")
        #expect(try Zstd.compressFile(random, size: Int64(Self.random.count), to: dir.sub("r")) == nil)
        #expect(!FileManager.default.fileExists(atPath: dir.sub("r")), "the useless output is removed")
        #expect(Zstd.pays(original: 1000, compressed: 900))
        #expect(!Zstd.pays(original: 1000, compressed: 901))
        #expect(Zstd.decompress(Array(compressed.dropLast())) == nil, "truncated frames are rejected")
    }

    @Test("zstd: pooled decoders left mid-frame by a cut stream decode the next stream from its start")
    func zstdPooledAfterTruncation() throws {
        let first = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 / 5) }
        let second = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 / 3 + 7) }
        let (a, b) = (Zstd.compress(first), Zstd.compress(second))
        for _ in 0..<3 {
            #expect(Zstd.decompress(Array(a.prefix(a.count / 2))) == nil, "cut in the middle of a frame")
            #expect(Zstd.decompress(b) == second)
            #expect(Zstd.decompress(a) == first)
        }
    }

    @Test("zstd: content that exactly fills the decoder's output buffers is complete, not truncated")
    func zstdBufferMultiples() throws {
        for size in [128 * 1024, 256 * 1024, 128 * 1024 - 1, 128 * 1024 + 1] {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 / 7) }
            let compressed = Zstd.compress(bytes)
            #expect(Zstd.decompress(compressed) == bytes, "\(size) bytes")
            #expect(Zstd.decompress(Array(compressed.dropLast())) == nil, "\(size) bytes, truncated")
        }
    }
}
