import CASBridge
import CASBridgeTestSupport
import Glibc
import Logging
import Synchronization
import Testing

@Suite("WarmManifest")
struct WarmManifestTests {
    static func record(_ n: UInt8, output: UInt8? = nil) -> WarmManifest.Record {
        WarmManifest.Record(
            actionID: Digest(bytes: [UInt8](repeating: n, count: 32))!,
            entry: ActionEntry(
                outputID: Digest(bytes: [UInt8](repeating: output ?? n &+ 100, count: 32))!, size: Int64(n) * 1000,
                time: Timestamp(nanoseconds: 1_700_000_000_000_000_000 + Int64(n))))
    }

    static func record(_ n: UInt8, size: Int64) -> WarmManifest.Record {
        var r = record(n)
        r.entry.size = size
        return r
    }

    @Test("encodes to the documented CBGM version 2 layout and decodes back")
    func roundTrip() throws {
        var records = (1...3).map { Self.record($0) }
        records[1].placement = WarmManifest.Placement(segment: 0, offset: 500)
        records[2].age = 3
        let segment = WarmManifest.Segment(digest: Digest(bytes: [UInt8](repeating: 7, count: 32))!, size: 3000)
        let manifest = WarmManifest(records, segments: [segment])
        let bytes = manifest.encoded()
        #expect(bytes.count == 24 + 40 + 3 * 96)
        #expect(Array(bytes[0..<4]) == Array("CBGM".utf8))
        #expect(Array(bytes[4..<8]) == [2, 0, 0, 0])
        #expect(Array(bytes[8..<16]) == [3, 0, 0, 0, 0, 0, 0, 0])
        #expect(Array(bytes[16..<20]) == [1, 0, 0, 0], "one segment")
        #expect(Array(bytes[24..<56]) == [UInt8](repeating: 7, count: 32), "segment digest")
        #expect(Array(bytes[56..<64]) == [0xB8, 0x0B, 0, 0, 0, 0, 0, 0], "segment size 3000")
        let r0 = 64
        #expect(Array(bytes[r0..<r0 + 32]) == [UInt8](repeating: 1, count: 32), "ActionID first")
        #expect(Array(bytes[r0 + 32..<r0 + 64]) == [UInt8](repeating: 101, count: 32), "then OutputID")
        #expect(Array(bytes[r0 + 64..<r0 + 72]) == [0xE8, 0x03, 0, 0, 0, 0, 0, 0], "size 1000, little-endian")
        #expect(Array(bytes[r0 + 80..<r0 + 84]) == [0xFF, 0xFF, 0xFF, 0xFF], "not packed")
        let r1 = r0 + 96
        #expect(Array(bytes[r1 + 80..<r1 + 84]) == [0, 0, 0, 0], "segment 0")
        #expect(Array(bytes[r1 + 88..<r1 + 96]) == [0xF4, 0x01, 0, 0, 0, 0, 0, 0], "at offset 500")
        #expect(Array(bytes[r1 + 84..<r1 + 88]) == [0, 0, 0, 0], "age 0")
        #expect(Array(bytes[r1 + 96 + 84..<r1 + 96 + 88]) == [3, 0, 0, 0], "age 3")
        #expect(try WarmManifest(decoding: bytes) == manifest)
    }

    @Test("version 1 manifests (no segments) still decode")
    func versionOne() throws {
        let r = Self.record(4)
        var bytes = Array("CBGM".utf8) + [1, 0, 0, 0] + [1, 0, 0, 0, 0, 0, 0, 0]
        bytes += r.actionID.bytes + r.entry.outputID.bytes
        withUnsafeBytes(of: r.entry.size.littleEndian) { bytes += $0 }
        withUnsafeBytes(of: r.entry.time.nanoseconds.littleEndian) { bytes += $0 }
        #expect(try WarmManifest(decoding: bytes) == WarmManifest([r]))
    }

    @Test("repeated ActionIDs keep their first place; a plan puts this run first and keeps the rest")
    func planOrder() {
        let run = WarmManifest([Self.record(3), Self.record(1), Self.record(3, output: 9)])
        #expect(run.records.map(\.actionID) == [Self.record(3).actionID, Self.record(1).actionID])
        #expect(run.records[0].entry == Self.record(3).entry)
        let older = WarmManifest([Self.record(1), Self.record(2)])
        let plan = WarmManifest.plan(used: run.records, older: older)
        #expect(plan.manifest.records.map(\.actionID) == [3, 1, 2].map { Self.record($0).actionID })
    }

    @Test("records no run used for maxAge manifest writes are dropped; a record used again is young again")
    func planAging() {
        var manifest: WarmManifest? = nil
        manifest = WarmManifest.plan(used: [Self.record(1), Self.record(2)], older: manifest).manifest
        for write in 1...WarmManifest.maxAge {
            manifest = WarmManifest.plan(used: [Self.record(UInt8(10 + write))], older: manifest).manifest
            #expect(manifest?.records.first(where: { $0.actionID == Self.record(1).actionID })?.age == write)
        }
        #expect(manifest?.records.count == 2 + WarmManifest.maxAge)
        // Record 2 is used again; record 1 is not, and has now gone unused maxAge + 1 times.
        manifest = WarmManifest.plan(used: [Self.record(2)], older: manifest).manifest
        let ages = Dictionary(uniqueKeysWithValues: (manifest?.records ?? []).map { ($0.actionID, $0.age) })
        #expect(ages[Self.record(1).actionID] == nil, "aged out")
        #expect(ages[Self.record(2).actionID] == 0)
        #expect(ages[Self.record(11).actionID] == WarmManifest.maxAge, "still kept at maxAge")
        #expect(ages[Self.record(UInt8(10 + WarmManifest.maxAge)).actionID] == 1)
        let decoded = manifest.flatMap { try? WarmManifest(decoding: $0.encoded()) }
        #expect(decoded == manifest, "ages survive encoding")
    }

    @Test("a plan packs this run's small outputs into segments in order and leaves large ones alone")
    func planPacking() throws {
        let mib: Int64 = 1 << 20
        let used = [
            Self.record(1, size: 3 * mib / 2), Self.record(2, size: mib), Self.record(3, size: mib),
            Self.record(4, size: mib),
            Self.record(5, size: mib), Self.record(6, size: 10), Self.record(7, size: 0),
        ]
        let plan = WarmManifest.plan(used: used, older: nil)
        let placements = plan.manifest.records.map(\.placement)
        #expect(placements[0] == nil, "larger than maxPackedSize")
        #expect(placements[1] == .init(segment: 0, offset: 0))
        #expect(placements[4] == .init(segment: 0, offset: 3 * mib))
        #expect(
            placements[5] == nil && placements[6] == nil,
            "a one-output segment is not worth writing; empty outputs never")
        #expect(plan.manifest.segments.count == 1 && plan.manifest.segments[0].size == 4 * mib)
        #expect(plan.pending.count == 1 && plan.pending[0].pieces.count == 4)

        // The next run used the same outputs but one: the segment is still mostly live and kept.
        var written = plan.manifest
        written.segments[0].digest = Digest(bytes: [UInt8](repeating: 42, count: 32))!
        let next = WarmManifest.plan(
            used: Array(used.prefix(4)) + [Self.record(8, size: 100), Self.record(9, size: 100)], older: written)
        #expect(next.manifest.segments.first == written.segments[0], "kept, first referenced first")
        #expect(next.pending.count == 1 && next.pending[0].pieces.map(\.size) == [100, 100], "new outputs packed anew")
        #expect(next.manifest.records.first { $0.actionID == used[4].actionID }?.placement?.segment == 0)

        // The same actions now produce other outputs: the old segment is dead and not kept.
        let rebuilt = (2...5).map { n -> WarmManifest.Record in
            var r = Self.record(UInt8(n), size: 1000)
            r.entry.outputID = Digest(bytes: [UInt8](repeating: UInt8(n) &+ 50, count: 32))!
            return r
        }
        let replaced = WarmManifest.plan(used: rebuilt, older: written)
        #expect(!replaced.manifest.segments.contains(written.segments[0]))
        #expect(
            replaced.pending.count == 1 && replaced.pending[0].pieces.map(\.outputID) == rebuilt.map(\.entry.outputID))

        // A run that uses none of the segment's outputs and drops their records: rewritten away.
        let dropped = written.removingSegments([0])
        #expect(dropped.segments.isEmpty && dropped.records.allSatisfy { $0.placement == nil })
    }

    @Test("compressing, a plan packs every output, one larger than a segment alone in its own")
    func compressingPlan() throws {
        let mib: Int64 = 1 << 20
        let used = [Self.record(1, size: 1000), Self.record(2, size: 2000), Self.record(3, size: 5 * mib)]
        let plain = WarmManifest.plan(used: used, older: nil)
        #expect(plain.manifest.records[2].placement == nil && plain.pending.count == 1)
        let compressed = WarmManifest.plan(used: used, older: nil, compressing: true)
        #expect(compressed.compressing)
        #expect(compressed.manifest.records.map(\.placement?.segment) == [0, 0, 1])
        #expect(compressed.pending.map { $0.pieces.map(\.size) } == [[1000, 2000], [5 * mib]])
        #expect(plain.compressing(true).manifest == compressed.manifest, "the same run, planned again")
        #expect(compressed.compressing(false).manifest == plain.manifest)
    }

    @Test(
        "a manifest with a compressed segment is version 3 (56-byte segments) and decodes back; without one, version 2"
    )
    func compressedFormat() throws {
        let segment = WarmManifest.Segment(
            digest: Digest(bytes: [UInt8](repeating: 3, count: 32))!, size: 40, contentSize: 3000, compressed: true)
        var record = Self.record(2)
        record.placement = WarmManifest.Placement(segment: 0, offset: 1000)
        let manifest = WarmManifest([record], segments: [segment])
        let bytes = manifest.encoded()
        #expect(bytes[4] == 3 && bytes.count == 24 + 56 + 96)
        #expect(try WarmManifest(decoding: bytes) == manifest)
        var unknown = bytes
        unknown[24 + 48] = 2
        let error = #expect(throws: CASError.self) { try WarmManifest(decoding: unknown) }
        #expect(error?.message.contains("encoding 2") == true)

        var plain = manifest
        plain.segments[0] = WarmManifest.Segment(digest: segment.digest, size: 3000)
        #expect(plain.encoded()[4] == 2 && plain.encoded().count == 24 + 40 + 96)
        #expect(try WarmManifest(decoding: plain.encoded()) == plain)
    }

    @Test("bad bytes are refused with a message saying what is wrong")
    func badInput() {
        var placed = Self.record(1)
        placed.placement = WarmManifest.Placement(segment: 0, offset: 0)
        let segment = WarmManifest.Segment(digest: .empty, size: 1000)
        let good = WarmManifest([placed], segments: [segment]).encoded()
        func message(_ bytes: [UInt8]) -> String {
            do {
                _ = try WarmManifest(decoding: bytes)
                return "decoded"
            } catch {
                return error.message
            }
        }
        #expect(message(good) == "decoded")
        #expect(message(Array("nope".utf8)).contains("not a CBGM manifest"))
        var version = good
        version[4] = 7
        #expect(message(version).contains("version 7"))
        #expect(message(Array(good.dropLast())).contains("do not hold 1 segments and 1 records"))
        var negative = good
        negative[64 + 71] = 0x80
        #expect(message(negative).contains("has size"))
        var outside = good
        outside[64 + 88] = 1
        #expect(message(outside).contains("lies outside its segment"))
        var noSegment = good
        noSegment[64 + 80] = 3
        #expect(message(noSegment).contains("lies outside its segment"))
    }

    @Test("manifest names map to distinct synthetic ActionIDs")
    func names() {
        #expect(WarmManifest.actionID(named: "default") == WarmManifest.actionID(named: "default"))
        #expect(WarmManifest.actionID(named: "default") != WarmManifest.actionID(named: "ci-linux"))
    }

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
        let temp = try store.makeTempFile()
        try FileSystem.writeAll(temp.fd, bytes)
        close(temp.fd)
        let entry = ActionEntry(outputID: SHA256.hash(bytes), size: Int64(bytes.count), time: .now())
        try store.publish(
            temp: temp.path, digest: entry.outputID, size: entry.size,
            actionID: Digest(bytes: [UInt8](repeating: action, count: 32))!, time: entry.time)
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
        #expect(statsA.snapshot.manifestHits == 0)
        #expect(await tierA.drain(timeout: .seconds(10)) == 0)
        let written = try #require(remote.lookup(manifestID))
        let manifest = try WarmManifest(decoding: FileSystem.readFile(written.path))
        #expect(manifest.records.map(\.actionID) == actions.reversed(), "in the order the go command asked")
        #expect(manifest.segments.count == 1, "the small outputs packed into one segment")
        #expect(manifest.records.allSatisfy { $0.placement?.segment == 0 })
        #expect(statsA.snapshot.segmentUploads == 1)

        // Run 2, empty local store: one get loads the manifest, and every blob arrives.
        let localB = try LocalStore(directory: dir.sub("b"))
        let statsB = HelperStatistics()
        let tierB = RemoteTier(
            store: remote, mode: .readwrite, statistics: statsB, logger: Logger(label: "test"), manifestName: "ci")
        #expect(tierB.readyHit(actions[1], in: localB) == nil, "no manifest loaded yet")
        let hit = try #require(await tierB.fetch(actions[1], into: localB))
        #expect(hit.entry == entries[1])
        #expect(statsB.snapshot.manifestHits == 1 && statsB.snapshot.manifestRecords == 3)
        try await Polling.until(timeout: .seconds(60)) { entries.allSatisfy { localB.hasBlob($0.outputID) } }
        #expect(entries.allSatisfy { localB.hasBlob($0.outputID) }, "prefetched")
        #expect(localB.lookup(actions[0]) == nil, "prefetching stores blobs, not entries nobody asked for")
        #expect(tierB.readyHit(actions[2], in: localB)?.entry == entries[2], "prefetched: a hit without waiting")
        #expect(localB.lookup(actions[2])?.entry == entries[2], "and recorded locally")
        #expect(tierB.readyHit(Digest(bytes: [UInt8](repeating: 7, count: 32))!, in: localB) == nil)
        for action in actions {
            tierB.noteUse(action, try #require(await tierB.fetch(action, into: localB)).entry)
        }
        #expect(statsB.snapshot.manifestHits == 5)
        #expect(statsB.snapshot.segmentReads == 1, "all three in one read")
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
        #expect(read.corruptBlobs == 1 && read.segmentReads == 1)
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
        #expect(clean.segmentReads == 1 && clean.manifestHits == 3 && clean.corruptBlobs == 0)

        var damaged = stored
        damaged[damaged.count / 2] ^= 0x5A
        chmod(backing.blobPath(segment.digest), 0o644)
        try FileSystem.writeFileAtomically(backing.blobPath(segment.digest), damaged)
        let afterDamage = try await Self.readAll(actions, entries, from: backing, into: dir.sub("c"))
        #expect(afterDamage.manifestHits == 3)
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
        override func readBlob(_ digest: Digest, size: Int64, into path: String) async throws -> Bool {
            reads.withLock { $0.append(digest) }
            while digest == held && !released.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
            return try await inner.readBlob(digest, size: size, into: path)
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

    @Test("the prefetcher reads in the manifest's order within its byte budget; a get that cannot wait starts its read")
    func prefetchTurns() async throws {
        let dir = try TemporaryDirectory("manifest")
        let backing = try LocalStore(directory: dir.sub("remote"))
        let actions = (1...4).map { Digest(bytes: [UInt8](repeating: $0, count: 32))! }
        var entries: [ActionEntry] = []
        for n in 1...4 { entries.append(try Self.put("output \(n)", action: UInt8(n), in: backing)) }
        // A manifest without segments: every output is a read of its own.
        let manifestBytes = WarmManifest(zip(actions, entries).map { WarmManifest.Record(actionID: $0, entry: $1) })
            .encoded()
        let temp = try backing.makeTempFile()
        try FileSystem.writeAll(temp.fd, manifestBytes)
        close(temp.fd)
        try backing.publish(
            temp: temp.path, digest: SHA256.hash(manifestBytes), size: Int64(manifestBytes.count),
            actionID: WarmManifest.actionID(named: "ci"), time: .now())

        let remote = HeldReads(backing, holding: entries[0].outputID)
        defer { remote.released.withLock { $0 = true } }
        let local = try LocalStore(directory: dir.sub("b"))
        let tier = RemoteTier(
            store: remote, mode: .readonly, statistics: HelperStatistics(), logger: Logger(label: "test"),
            manifestName: "ci", prefetchBytes: 1, prefetchBandwidth: 0)
        // The last output's get, while the first read is held: with one download in flight,
        // the prefetcher waits, so the get must start its own read.
        let last = Task { await tier.fetch(actions[3], into: local) }
        for _ in 0..<1000 where !local.hasBlob(entries[3].outputID) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(local.hasBlob(entries[3].outputID), "the get did not wait for the prefetcher's turn")
        let outputs = entries.map(\.outputID)
        #expect(remote.reads.withLock { $0.filter(outputs.contains) } == [outputs[0], outputs[3]])
        remote.released.withLock { $0 = true }
        #expect(await last.value?.entry == entries[3])
        for _ in 0..<1000 where !entries.allSatisfy({ local.hasBlob($0.outputID) }) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(remote.reads.withLock { $0.filter(outputs.contains) } == [0, 3, 1, 2].map { outputs[$0] })
        _ = await tier.drain(timeout: .seconds(1))
    }

    /// A store that streams blob `held` to a sink up to `cut` bytes, then holds the rest
    /// until released.
    final class TrickleReads: ForwardingStore, @unchecked Sendable {
        let held: Digest
        let cut: Int
        let released = Mutex(false)
        override var name: String { "trickle" }
        init(_ inner: LocalStore, holding held: Digest, cut: Int) {
            self.held = held
            self.cut = cut
            super.init(inner)
        }
        override func readBlob(_ digest: Digest, size: Int64, to sink: any BlobSink) async throws -> Bool {
            guard digest == held else { return try await inner.readBlob(digest, size: size, to: sink) }
            let bytes = try FileSystem.readFile(inner.blobPath(digest))
            try sink.restart()
            try bytes.prefix(cut).withUnsafeBytes { try sink.write($0) }
            while !released.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
            try bytes.dropFirst(cut).withUnsafeBytes { try sink.write($0) }
            return true
        }
    }

    @Test("a get for an output in a segment is answered once its own bytes are in, not the whole segment's")
    func piecesArriveOnTheirOwn() async throws {
        let dir = try TemporaryDirectory("manifest")
        let backing = try LocalStore(directory: dir.sub("remote"))
        let actions = (1...3).map { Digest(bytes: [UInt8](repeating: $0, count: 32))! }
        for n in 1...3 { _ = try Self.put("output \(n)", action: UInt8(n), in: backing) }
        let localA = try LocalStore(directory: dir.sub("a"))
        let tierA = RemoteTier(
            store: backing, mode: .readwrite, statistics: HelperStatistics(), logger: Logger(label: "test"),
            manifestName: "ci")
        for action in actions { tierA.noteUse(action, try #require(await tierA.fetch(action, into: localA)).entry) }
        #expect(await tierA.drain(timeout: .seconds(10)) == 0)
        let written = try #require(backing.lookup(WarmManifest.actionID(named: "ci")))
        let manifest = try WarmManifest(decoding: FileSystem.readFile(written.path))
        let segment = try #require(manifest.segments.first)
        let first = try #require(manifest.records.first { $0.placement?.offset == 0 })
        let others = manifest.records.filter { $0.actionID != first.actionID }
        #expect(others.count == 2 && others.allSatisfy { $0.placement?.segment == 0 })

        // The segment's read stops one byte past the first output until released.
        let remote = TrickleReads(backing, holding: segment.digest, cut: Int(first.entry.size) + 1)
        defer { remote.released.withLock { $0 = true } }
        let local = try LocalStore(directory: dir.sub("b"))
        let stats = HelperStatistics()
        let tier = RemoteTier(
            store: remote, mode: .readonly, statistics: stats, logger: Logger(label: "test"), manifestName: "ci")
        let answered = Mutex(false)
        let get = Task {
            let hit = await tier.fetch(first.actionID, into: local)
            answered.withLock { $0 = true }
            return hit
        }
        for _ in 0..<1000 where !answered.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(answered.withLock { $0 }, "the get waited for the rest of the segment")
        #expect(others.allSatisfy { !local.hasBlob($0.entry.outputID) }, "the read is still held")
        remote.released.withLock { $0 = true }
        #expect(await get.value?.entry == first.entry)
        for r in others { #expect(try #require(await tier.fetch(r.actionID, into: local)).entry == r.entry) }
        #expect(stats.snapshot.segmentReads == 1 && stats.snapshot.manifestHits == 3)
        _ = await tier.drain(timeout: .seconds(1))
    }

    /// A store whose uploads of `slowSize` bytes take ten minutes (cancellable).
    final class SlowUploads: ForwardingStore, @unchecked Sendable {
        let slowSize: Int64
        override var name: String { "slow" }
        init(_ inner: LocalStore, slowSize: Int64) {
            self.slowSize = slowSize
            super.init(inner)
        }
        override func writeBlob(_ digest: Digest, size: Int64, from path: String) async throws {
            if size == slowSize { try await Task.sleep(for: .seconds(600)) }
            try await inner.writeBlob(digest, size: size, from: path)
        }
    }

    @Test("segments not stored in their share of close's budget are left out; the manifest is still written")
    func slowSegments() async throws {
        let dir = try TemporaryDirectory("manifest")
        let backing = try LocalStore(directory: dir.sub("remote"))
        let actions = (1...3).map { Digest(bytes: [UInt8](repeating: $0, count: 32))! }
        var entries: [ActionEntry] = []
        for n in 1...3 { entries.append(try Self.put("output \(n)", action: UInt8(n), in: backing)) }
        let remote = SlowUploads(backing, slowSize: entries.reduce(0) { $0 + $1.size })
        let local = try LocalStore(directory: dir.sub("a"))
        let tier = RemoteTier(
            store: remote, mode: .readwrite, statistics: HelperStatistics(), logger: Logger(label: "test"),
            manifestName: "ci", segmentTimeLimit: .seconds(1))
        for action in actions { tier.noteUse(action, try #require(await tier.fetch(action, into: local)).entry) }
        // The hung segment is given up after 1 s, long before close's own deadline.
        #expect(await tier.drain(timeout: .seconds(3600)) == 0, "the manifest made it")
        let written = try #require(backing.lookup(WarmManifest.actionID(named: "ci")))
        let manifest = try WarmManifest(decoding: FileSystem.readFile(written.path))
        #expect(manifest.records.map(\.actionID) == actions)
        #expect(manifest.segments.isEmpty && manifest.records.allSatisfy { $0.placement == nil })
    }

    @Test("close's upload deadline holds even when an upload hangs: the upload is dropped and counted")
    func hungUpload() async throws {
        let dir = try TemporaryDirectory("manifest")
        let backing = try LocalStore(directory: dir.sub("remote"))
        let local = try LocalStore(directory: dir.sub("a"))
        let entry = try Self.put("a put that never lands", action: 9, in: local)
        let stats = HelperStatistics()
        let tier = RemoteTier(
            store: SlowUploads(backing, slowSize: entry.size), mode: .readwrite, statistics: stats,
            logger: Logger(label: "test"), manifestName: nil)
        tier.enqueueUpload(
            actionID: Digest(bytes: [UInt8](repeating: 9, count: 32))!, entry: entry,
            path: local.blobPath(entry.outputID))
        // Before the fix close waited out the upload's ten minutes, which then landed: 0 dropped.
        #expect(await tier.drain(timeout: .seconds(2)) == 1)
        #expect(stats.snapshot.uploadsDropped == 1 && !backing.hasBlob(entry.outputID))
    }

    @Test("the prefetch window covers two round trips at the assumed link speed, between its floor and ceiling")
    func prefetchWindow() throws {
        let dir = try TemporaryDirectory("manifest")
        let backing = try LocalStore(directory: dir.sub("window"))
        func tier(floor: Int64, bandwidth: Int64) -> RemoteTier {
            RemoteTier(
                store: backing, mode: .readonly, statistics: HelperStatistics(), logger: Logger(label: "test"),
                prefetchBytes: floor, prefetchBandwidth: bandwidth)
        }
        let ms: Int64 = 1_000_000
        let adaptive = tier(floor: 16 << 20, bandwidth: 1 << 30)
        #expect(adaptive.prefetchWindow(roundTrip: ms / 5) == 16 << 20, "loopback: the floor")
        #expect(adaptive.prefetchWindow(roundTrip: 50 * ms) == Int64(Double(1 << 30) * 0.1))
        #expect(adaptive.prefetchWindow(roundTrip: 150 * ms) == RemoteTier.prefetchCeiling)
        #expect(tier(floor: 1, bandwidth: 0).prefetchWindow(roundTrip: 150 * ms) == 1, "fixed window")
    }
}
