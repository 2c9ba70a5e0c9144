public import CASBridge
import Foundation
import Testing

extension StoreConformance {
    /// Bytes that differ per call (a fresh blob every run, even on a shared server), made
    /// compressible when asked.
    static func bytes(_ size: Int, compressible: Bool = false) -> [UInt8] {
        let seed = UInt64.random(in: 1...UInt64.max)
        if compressible {
            let line = Array("package main // \(seed) compresses well\n".utf8)
            return (0..<size).map { line[$0 % line.count] }
        }
        var state = seed
        return (0..<size).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    /// Writes `bytes` through a file in `work` and returns their digest.
    @discardableResult
    static func put(_ bytes: [UInt8], _ store: any CacheStore, _ work: TemporaryDirectory) async throws -> Digest {
        let digest = SHA256.hash(bytes)
        let source = work.sub("in-\(digest.hex)")
        _ = FileManager.default.createFile(atPath: source, contents: Data(bytes))
        try await store.writeBlob(digest, size: Int64(bytes.count), from: source)
        return digest
    }

    /// Reads `digest` back every way the read API offers and checks each gives `bytes`.
    /// Contents are compared by hash: a failed `==` on large arrays would have the test
    /// library compute their difference, which takes minutes.
    static func expectReads(
        _ bytes: [UInt8], _ store: any CacheStore, _ work: TemporaryDirectory, _ what: String
    ) async throws {
        let digest = SHA256.hash(bytes)
        let size = Int64(bytes.count)
        let expected = ContentHash(digest: digest, size: size)
        let target = work.sub("out-\(UUID())")
        #expect(try await store.readBlob(digest, size: size, into: target), "\(what): present")
        #expect((try? ContentHash(file: target)) == expected, "\(what): file read")
        let hashed = work.sub("hashed-\(UUID())")
        let hash = try await store.readBlobHashed(digest, size: size, into: hashed)
        #expect(hash == expected, "\(what): hashed read reports the hash")
        #expect((try? ContentHash(file: hashed)) == expected, "\(what): hashed read")
        let sink = CollectingSink()
        #expect(try await store.readBlob(digest, size: size, to: sink), "\(what): streamed read present")
        #expect(ContentHash(bytes: sink.bytes) == expected, "\(what): streamed read")
    }

    /// A blob larger than a gRPC batch call may carry (`size`, 5 MiB by default, over the
    /// 4 MiB REAPI limit) round-trips every way: the ByteStream path of REAPI stores.
    public static func largeBlob(_ store: any CacheStore, backend: String, size: Int = 5 << 20) async throws {
        let work = try TemporaryDirectory("conformance")
        let bytes = bytes(size)
        let digest = try await put(bytes, store, work)
        #expect(try await store.missingBlobs([digest]).isEmpty, "\(backend): large blob missing after write")
        #expect(try await store.missingBlobs(sized: [(digest, Int64(size))]).isEmpty)
        try await expectReads(bytes, store, work, "\(backend): \(size) bytes")
    }

    /// The empty blob is stored, found and read like any other, and an action entry may
    /// point at it (a Go action with an empty output).
    public static func emptyBlob(_ store: any CacheStore, backend: String) async throws {
        let work = try TemporaryDirectory("conformance")
        let digest = try await put([], store, work)
        #expect(digest == SHA256.hash([UInt8]()))
        #expect(try await store.missingBlobs([digest]).isEmpty, "\(backend): the empty blob is missing")
        #expect(try await store.missingBlobs(sized: [(digest, 0)]).isEmpty)
        try await expectReads([], store, work, "\(backend): empty blob")
        let actionID = SHA256.hash(Array("empty output \(UUID())".utf8))
        try await store.record(ActionEntry(outputID: digest, size: 0, time: .now()), for: actionID)
        let entry = try await store.entry(for: actionID)
        #expect(entry?.outputID == digest && entry?.size == 0, "\(backend): an entry for an empty output")
    }

    /// `missingBlobs` over present and absent blobs together (duplicates included) names
    /// exactly the absent ones, with and without sizes.
    public static func mixedMissing(_ store: any CacheStore, backend: String) async throws {
        let work = try TemporaryDirectory("conformance")
        let present = [bytes(1), bytes(1000), bytes(70_000)]
        for blob in present { try await put(blob, store, work) }
        let absent = [bytes(1), bytes(1000), bytes(70_000)]
        let all = present + absent
        var query = all.map(SHA256.hash)
        query += [query[0], query[3]]
        let expected = Set(absent.map(SHA256.hash))
        #expect(try await store.missingBlobs(query) == expected, "\(backend): the absent blobs, no more, no less")
        var sized = all.map { (digest: SHA256.hash($0), size: Int64($0.count)) }
        sized += [sized[1], sized[4]]
        #expect(try await store.missingBlobs(sized: sized) == expected, "\(backend): the same, given sizes")
        #expect(try await store.missingBlobs(present.map(SHA256.hash)).isEmpty, "\(backend): all present")
    }

    /// One blob stored compressed (through `compressing`) and plain (through `plain`, the
    /// same remote with compression off) reads back as the original through both, whichever
    /// body is stored. `compresses` says whether `compressing` really stores a compressed
    /// body on this backend; then its compression statistics must show it did.
    public static func compressedAndPlain(
        compressing: any CacheStore, plain: any CacheStore, compresses: Bool, backend: String
    ) async throws {
        let work = try TemporaryDirectory("conformance")
        let first = bytes(200_000, compressible: true)
        let before = (compressing as? any CompressionReporting)?.compressionStatistics.compressedBlobs ?? 0
        try await put(first, compressing, work)
        if compresses {
            let after = (compressing as? any CompressionReporting)?.compressionStatistics.compressedBlobs ?? 0
            #expect(after == before + 1, "\(backend): the compressible blob was not uploaded compressed")
        }
        try await expectReads(first, plain, work, "\(backend): compressed body, plain reader")
        try await expectReads(first, compressing, work, "\(backend): compressed body, compressing reader")
        let second = bytes(200_000, compressible: true)
        try await put(second, plain, work)
        try await expectReads(second, compressing, work, "\(backend): plain body, compressing reader")
        try await expectReads(second, plain, work, "\(backend): plain body, plain reader")
    }

    /// A streamed read whose first attempt fails part-way (the sink refuses the rest) throws;
    /// the caller's retry with the same sink delivers exactly the blob: the store restarts the
    /// sink before the first byte of every attempt.
    public static func retriedRead(_ store: any CacheStore, backend: String) async throws {
        let work = try TemporaryDirectory("conformance")
        let bytes = bytes(300_000)
        let digest = try await put(bytes, store, work)
        let sink = FailingOnceSink(failAfter: 1000)
        await #expect(throws: (any Error).self, "\(backend): the failed attempt reports its failure") {
            try await store.readBlob(digest, size: Int64(bytes.count), to: sink)
        }
        #expect(sink.failed, "\(backend): the first attempt delivered bytes before failing")
        #expect(try await store.readBlob(digest, size: Int64(bytes.count), to: sink))
        #expect(sink.bytes.count == bytes.count, "\(backend): the retry delivered \(sink.bytes.count) bytes")
        #expect(
            ContentHash(bytes: sink.bytes) == ContentHash(digest: digest, size: Int64(bytes.count)),
            "\(backend): the retry delivers the blob, not the first attempt's bytes too")
        #expect(sink.restarts >= 2, "\(backend): each attempt restarts the sink")
    }
}
