import CASBridge
import CASBridgeTestSupport
import Glibc
import Logging
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

    @Test("encodes to the documented CBGM layout and decodes back")
    func roundTrip() throws {
        let manifest = WarmManifest((1...3).map { Self.record($0) })
        let bytes = manifest.encoded()
        #expect(bytes.count == 16 + 3 * 80)
        #expect(Array(bytes[0..<4]) == Array("CBGM".utf8))
        #expect(Array(bytes[4..<8]) == [1, 0, 0, 0])
        #expect(Array(bytes[8..<16]) == [3, 0, 0, 0, 0, 0, 0, 0])
        #expect(Array(bytes[16..<48]) == [UInt8](repeating: 1, count: 32), "ActionID first")
        #expect(Array(bytes[48..<80]) == [UInt8](repeating: 101, count: 32), "then OutputID")
        #expect(Array(bytes[80..<88]) == [0xE8, 0x03, 0, 0, 0, 0, 0, 0], "size 1000, little-endian")
        #expect(try WarmManifest(decoding: bytes) == manifest)
    }

    @Test("repeated ActionIDs keep their first place; a merge puts this run first and keeps the rest")
    func mergeOrder() {
        let run = WarmManifest([Self.record(3), Self.record(1), Self.record(3, output: 9)])
        #expect(run.records.map(\.actionID) == [Self.record(3).actionID, Self.record(1).actionID])
        #expect(run.records[0].entry == Self.record(3).entry)
        let older = WarmManifest([Self.record(1), Self.record(2)])
        let merged = run.merged(with: older)
        #expect(merged.records.map(\.actionID) == [3, 1, 2].map { Self.record($0).actionID })
        #expect(run.merged(with: nil) == run)
    }

    @Test("bad bytes are refused with a message saying what is wrong")
    func badInput() {
        let good = WarmManifest([Self.record(1)]).encoded()
        func message(_ bytes: [UInt8]) -> String {
            do {
                _ = try WarmManifest(decoding: bytes)
                return "decoded"
            } catch {
                return error.message
            }
        }
        #expect(message(Array("nope".utf8)).contains("not a CBGM manifest"))
        var version = good
        version[4] = 7
        #expect(message(version).contains("version 7"))
        #expect(message(Array(good.dropLast())).contains("do not hold 1 records"))
        var negative = good
        negative[16 + 71] = 0x80
        #expect(message(negative).contains("has size"))
    }

    @Test("manifest names map to distinct synthetic ActionIDs")
    func names() {
        #expect(WarmManifest.actionID(named: "default") == WarmManifest.actionID(named: "default"))
        #expect(WarmManifest.actionID(named: "default") != WarmManifest.actionID(named: "ci-linux"))
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

        // Run 2, empty local store: one get loads the manifest, and every blob arrives.
        let localB = try LocalStore(directory: dir.sub("b"))
        let statsB = HelperStatistics()
        let tierB = RemoteTier(
            store: remote, mode: .readwrite, statistics: statsB, logger: Logger(label: "test"), manifestName: "ci")
        let hit = try #require(await tierB.fetch(actions[1], into: localB))
        #expect(hit.entry == entries[1])
        #expect(statsB.snapshot.manifestHits == 1 && statsB.snapshot.manifestRecords == 3)
        for _ in 0..<500 where !entries.allSatisfy({ localB.hasBlob($0.outputID) }) { usleep(10_000) }
        #expect(entries.allSatisfy { localB.hasBlob($0.outputID) }, "prefetched")
        #expect(localB.lookup(actions[0]) == nil, "prefetching stores blobs, not entries nobody asked for")
        for action in actions {
            tierB.noteUse(action, try #require(await tierB.fetch(action, into: localB)).entry)
        }
        #expect(statsB.snapshot.manifestHits == 4)
        // It used exactly what the manifest leads with: nothing new to write.
        #expect(await tierB.drain(timeout: .seconds(10)) == 0)
        #expect(remote.lookup(manifestID)?.entry == written.entry)
    }
}
