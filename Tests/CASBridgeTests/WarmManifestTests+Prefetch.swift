import CASBridge
import CASBridgeTestSupport
import Glibc
import Logging
import Synchronization
import Testing

extension WarmManifestTests {
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
        try backing.publish(bytes: manifestBytes, actionID: WarmManifest.actionID(named: "ci"))

        let remote = HeldReads(backing, holding: entries[0].outputID)
        defer { remote.released.withLock { $0 = true } }
        let local = try LocalStore(directory: dir.sub("b"))
        let tier = RemoteTier(
            store: remote, mode: .readonly, statistics: HelperStatistics(), logger: Logger(label: "test"),
            manifestName: "ci", prefetchBytes: 1, prefetchBandwidth: 0)
        let outputs = entries.map(\.outputID)
        // The last output's get starts the prefetch, whose first read (the first output) is held: with one
        // download in flight the prefetcher waits, so the get must start its own read, not wait for its turn.
        // Which of the two reads starts first is up to the scheduler.
        let last = Task { await tier.fetch(actions[3], into: local) }
        try await Polling.until { local.hasBlob(entries[3].outputID) }
        try await Polling.until { remote.reads.withLock { $0.contains(outputs[0]) } }
        #expect(Set(remote.reads.withLock { $0.filter(outputs.contains) }) == [outputs[0], outputs[3]])
        remote.released.withLock { $0 = true }
        #expect(await last.value?.entry == entries[3])
        try await Polling.until { entries.allSatisfy { local.hasBlob($0.outputID) } }
        let reads = remote.reads.withLock { $0.filter(outputs.contains) }
        #expect(reads.count == 4 && Set(reads.prefix(2)) == [outputs[0], outputs[3]])
        #expect(Array(reads.suffix(2)) == [outputs[1], outputs[2]], "then the rest in the manifest's order")
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
        // A get that waited for the rest of the segment would never be answered while the read is held.
        try await Polling.until { answered.withLock { $0 } }
        #expect(others.allSatisfy { !local.hasBlob($0.entry.outputID) }, "the read is still held")
        remote.released.withLock { $0 = true }
        #expect(await get.value?.entry == first.entry)
        for r in others { #expect(try #require(await tier.fetch(r.actionID, into: local)).entry == r.entry) }
        #expect(stats.snapshot[.segmentReads] == 1 && stats.snapshot[.manifestHits] == 3)
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
        #expect(stats.snapshot[.uploadsDropped] == 1 && !backing.hasBlob(entry.outputID))
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
        let ms = Duration.milliseconds(1)
        let adaptive = tier(floor: 16 << 20, bandwidth: 1 << 30)
        #expect(adaptive.prefetchWindow(roundTrip: ms / 5) == 16 << 20, "loopback: the floor")
        #expect(adaptive.prefetchWindow(roundTrip: ms * 50) == Int64(Double(1 << 30) * 0.1))
        #expect(adaptive.prefetchWindow(roundTrip: ms * 150) == RemoteTier.prefetchCeiling)
        #expect(tier(floor: 1, bandwidth: 0).prefetchWindow(roundTrip: ms * 150) == 1, "fixed window")
    }
}
