import CASBridge
import CASBridgeTestSupport
import Glibc
import Logging
import Synchronization
import Testing

extension WarmManifestTests {
    /// A run from an empty local store at `directory` that reads the "ci" manifest from
    /// `store` and gets every action in turn: each must be served with its entry and its real
    /// bytes. Returns the run's statistics.
    static func readAll(
        _ actions: [Digest], _ entries: [ActionEntry], from store: any CacheStore, into directory: String
    ) async throws -> HelperStatistics.Snapshot {
        let local = try LocalStore(directory: directory)
        let stats = HelperStatistics()
        let tier = RemoteTier(
            store: store, mode: .readonly, statistics: stats, logger: Logger(label: "test"), manifestName: "ci")
        for (action, entry) in zip(actions, entries) {
            let hit = try #require(await tier.fetch(action, into: local))
            #expect(hit.entry == entry)
            #expect(try FileSystem.hashFile(hit.path).0 == entry.outputID, "what is served is the real output")
        }
        _ = await tier.drain(timeout: .seconds(1))
        return stats.snapshot
    }

    /// Stores `body` in `store` as the output of `action`; returns its entry.
    static func put(_ body: String, action: UInt8, in store: LocalStore) throws -> ActionEntry {
        let bytes = Array(body.utf8)
        let entry = ActionEntry(outputID: SHA256.hash(bytes), size: Int64(bytes.count), time: .now())
        try store.publish(
            bytes: bytes, actionID: Digest(bytes: [UInt8](repeating: action, count: 32))!, time: entry.time)
        return entry
    }

    @Test("a run writes the entries it used; the next, from an empty store, prefetches them and skips the action cache")
    func warmRun() async throws {
        let dir = try TemporaryDirectory("manifest")
        let remote = try LocalStore(directory: dir.sub("remote"))
        let actions = (1...3).map { Digest(bytes: [UInt8](repeating: $0, count: 32))! }
        var entries: [ActionEntry] = []
        for n in 1...3 { entries.append(try Self.put("output \(n)", action: UInt8(n), in: remote)) }
        let manifestID = WarmManifest.actionID(named: "ci")

        // Run 1: gets through the action cache (no manifest yet), then close writes one.
        let localA = try LocalStore(directory: dir.sub("a"))
        let statsA = HelperStatistics()
        let tierA = RemoteTier(
            store: remote, mode: .readwrite, statistics: statsA, logger: Logger(label: "test"), manifestName: "ci")
        for (action, entry) in zip(actions.reversed(), entries.reversed()) {
            let hit = try #require(await tierA.fetch(action, into: localA))
            #expect(hit.entry == entry)
            tierA.noteUse(action, hit.entry)
        }
        #expect(statsA.snapshot[.manifestHits] == 0)
        #expect(await tierA.drain(timeout: .seconds(10)) == 0)
        let written = try #require(remote.lookup(manifestID))
        let manifest = try WarmManifest(decoding: FileSystem.readFile(written.path))
        #expect(manifest.records.map(\.actionID) == actions.reversed(), "in the order the go command asked")
        #expect(manifest.segments.count == 1, "the small outputs packed into one segment")
        #expect(manifest.records.allSatisfy { $0.placement?.segment == 0 })
        #expect(statsA.snapshot[.segmentUploads] == 1)

        // Run 2, empty local store: one get loads the manifest, and every blob arrives.
        let localB = try LocalStore(directory: dir.sub("b"))
        let statsB = HelperStatistics()
        let tierB = RemoteTier(
            store: remote, mode: .readwrite, statistics: statsB, logger: Logger(label: "test"), manifestName: "ci")
        #expect(tierB.readyHit(actions[1], in: localB) == nil, "no manifest loaded yet")
        let hit = try #require(await tierB.fetch(actions[1], into: localB))
        #expect(hit.entry == entries[1])
        #expect(statsB.snapshot[.manifestHits] == 1 && statsB.snapshot[.manifestRecords] == 3)
        try await Polling.until { entries.allSatisfy { localB.hasBlob($0.outputID) } }
        #expect(entries.allSatisfy { localB.hasBlob($0.outputID) }, "prefetched")
        #expect(localB.lookup(actions[0]) == nil, "prefetching stores blobs, not entries nobody asked for")
        #expect(tierB.readyHit(actions[2], in: localB)?.entry == entries[2], "prefetched: a hit without waiting")
        #expect(localB.lookup(actions[2])?.entry == entries[2], "and recorded locally")
        #expect(tierB.readyHit(Digest(bytes: [UInt8](repeating: 7, count: 32))!, in: localB) == nil)
        for action in actions {
            tierB.noteUse(action, try #require(await tierB.fetch(action, into: localB)).entry)
        }
        #expect(statsB.snapshot[.manifestHits] == 5)
        #expect(statsB.snapshot[.segmentReads] == 1, "all three in one read")
        // It used exactly what the manifest leads with: nothing new to write.
        #expect(await tierB.drain(timeout: .seconds(10)) == 0)
        #expect(remote.lookup(manifestID)?.entry == written.entry)
    }

    @Test("a damaged segment is never served: its pieces are refused, counted and read on their own")
    func damagedSegment() async throws {
        let dir = try TemporaryDirectory("manifest")
        let remote = try LocalStore(directory: dir.sub("remote"))
        let actions = (1...3).map { Digest(bytes: [UInt8](repeating: $0, count: 32))! }
        var entries: [ActionEntry] = []
        for n in 1...3 { entries.append(try Self.put("output \(n)", action: UInt8(n), in: remote)) }
        let localA = try LocalStore(directory: dir.sub("a"))
        let tierA = RemoteTier(
            store: remote, mode: .readwrite, statistics: HelperStatistics(), logger: Logger(label: "test"),
            manifestName: "ci")
        for action in actions { tierA.noteUse(action, try #require(await tierA.fetch(action, into: localA)).entry) }
        #expect(await tierA.drain(timeout: .seconds(10)) == 0)
        let written = try #require(remote.lookup(WarmManifest.actionID(named: "ci")))
        let manifest = try WarmManifest(decoding: FileSystem.readFile(written.path))
        let segment = try #require(manifest.segments.first)
        // Flip one byte of the second output inside the stored segment.
        var bytes = try FileSystem.readFile(remote.blobPath(segment.digest))
        bytes[Int(entries[0].size) + 2] ^= 0x20
        chmod(remote.blobPath(segment.digest), 0o644)
        try FileSystem.writeFileAtomically(remote.blobPath(segment.digest), bytes)

        let read = try await Self.readAll(actions, entries, from: remote, into: dir.sub("b"))
        #expect(read[.corruptBlobs] == 1 && read[.segmentReads] == 1)
    }

    /// A store that asks for compressed segments (as a REAPI server without zstd does).
    final class CompressingStore: ForwardingStore, @unchecked Sendable {
        override var name: String { "compressing" }
        override func compressesSegments() async -> Bool { true }
    }

    @Test(
        "segments are stored compressed where the store asks; the next run reads them, and a damaged one output by output"
    )
    func compressedSegments() async throws {
        let dir = try TemporaryDirectory("manifest")
        let backing = try LocalStore(directory: dir.sub("remote"))
        let actions = (1...3).map { Digest(bytes: [UInt8](repeating: $0, count: 32))! }
        var entries: [ActionEntry] = []
        for n in 1...3 {
            entries.append(try Self.put(String(repeating: "output \(n) ", count: 3000), action: UInt8(n), in: backing))
        }
        let localA = try LocalStore(directory: dir.sub("a"))
        let tierA = RemoteTier(
            store: CompressingStore(backing), mode: .readwrite, statistics: HelperStatistics(),
            logger: Logger(label: "test"), manifestName: "ci")
        for action in actions { tierA.noteUse(action, try #require(await tierA.fetch(action, into: localA)).entry) }
        // Compressing runs off the concurrency pool, which the go-build suites can keep busy for
        // minutes: a deadline that cannot pass here.
        #expect(await tierA.drain(timeout: .seconds(600)) == 0)
        let written = try #require(backing.lookup(WarmManifest.actionID(named: "ci")))
        let manifest = try WarmManifest(decoding: FileSystem.readFile(written.path))
        let segment = try #require(manifest.segments.first)
        #expect(manifest.segments.count == 1 && segment.compressed)
        #expect(segment.contentSize == entries.reduce(0) { $0 + $1.size } && segment.size * 4 < segment.contentSize)
        let stored = try FileSystem.readFile(backing.blobPath(segment.digest))
        #expect(Array(stored.prefix(4)) == [0x28, 0xB5, 0x2F, 0xFD], "one zstd frame")

        let clean = try await Self.readAll(actions, entries, from: backing, into: dir.sub("b"))
        #expect(clean[.segmentReads] == 1 && clean[.manifestHits] == 3 && clean[.corruptBlobs] == 0)

        var damaged = stored
        damaged[damaged.count / 2] ^= 0x5A
        chmod(backing.blobPath(segment.digest), 0o644)
        try FileSystem.writeFileAtomically(backing.blobPath(segment.digest), damaged)
        let afterDamage = try await Self.readAll(actions, entries, from: backing, into: dir.sub("c"))
        #expect(afterDamage[.manifestHits] == 3)
    }

    /// A store that logs the blobs read from it and holds reads of `held` until released.
    final class HeldReads: ForwardingStore, @unchecked Sendable {
        let held: Digest
        let released = Mutex(false)
        let reads = Mutex<[Digest]>([])
        override var name: String { "held" }
        init(_ inner: LocalStore, holding held: Digest) {
            self.held = held
            super.init(inner)
        }
        override func readBlob(_ digest: Digest, size: Int64, to sink: any BlobSink) async throws -> Bool {
            reads.withLock { $0.append(digest) }
            while digest == held && !released.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
            return try await inner.readBlob(digest, size: size, to: sink)
        }
    }

    @Test("the empty output is stored locally without a read from the remote")
    func emptyOutput() async throws {
        let dir = try TemporaryDirectory("manifest")
        let backing = try LocalStore(directory: dir.sub("remote"))
        let entry = try Self.put("", action: 7, in: backing)
        #expect(entry.outputID == .empty)
        let remote = HeldReads(backing, holding: entry.outputID)
        remote.released.withLock { $0 = true }
        let local = try LocalStore(directory: dir.sub("b"))
        let tier = RemoteTier(
            store: remote, mode: .readonly, statistics: HelperStatistics(), logger: Logger(label: "test"),
            manifestName: nil)
        let hit = await tier.fetch(Digest(bytes: [UInt8](repeating: 7, count: 32))!, into: local)
        #expect(hit?.entry == entry)
        #expect(remote.reads.withLock { $0.isEmpty }, "no read of the empty blob")
        #expect(local.hasBlob(.empty))
        _ = await tier.drain(timeout: .seconds(1))
    }
}
