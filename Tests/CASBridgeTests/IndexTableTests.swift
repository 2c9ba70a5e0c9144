import CASBridgeTestSupport
import Foundation
import Testing

@testable import CASBridge

@Suite("Local store index: table, journal and compaction")
struct IndexTableTests {
    let dir: TemporaryDirectory

    init() throws {
        dir = try TemporaryDirectory("index-table")
    }

    static func action(_ n: Int) -> Digest {
        var bytes = Array(repeating: UInt8(0), count: 32)
        withUnsafeBytes(of: UInt64(n).bigEndian) { bytes.replaceSubrange(0..<8, with: $0) }
        bytes[31] = 0xA5
        return Digest(bytes: SHA256.hash(bytes).bytes)!
    }

    /// Puts `count` distinct outputs, each under its own action.
    func fill(_ store: LocalStore, _ range: Range<Int>, prefix: String = "output") throws -> [Digest: Digest] {
        var outputs: [Digest: Digest] = [:]
        for n in range {
            let bytes = Array("\(prefix) \(n)".utf8)
            let (digest, _) = try store.publish(bytes: bytes)
            try store.record(
                ActionEntry(outputID: digest, size: Int64(bytes.count), time: .now()), for: Self.action(n))
            outputs[Self.action(n)] = digest
        }
        return outputs
    }

    @Test("a journal past its limit is folded into a sorted table that a new process reads without loading it")
    func compaction() throws {
        let store = try LocalStore(directory: dir.path, journalLimit: 16)
        let outputs = try fill(store, 0..<40)
        #expect(store.compactIfDue())
        #expect(FileSystem.status(dir.sub("v1/index"))?.st_size == 0, "the journal starts over")
        #expect(!store.compactIfDue(), "nothing more to fold")
        let reader = try LocalStore(directory: dir.path, journalLimit: 16)
        #expect(reader.state.withLock { $0.journal.isEmpty && $0.table?.count == 40 })
        for (action, output) in outputs {
            #expect(reader.lookup(action)?.entry.outputID == output)
        }
        #expect(reader.lookup(Self.action(1000)) == nil)
        #expect(reader.entryCount == 40)
        #expect(reader.summary().entries == 40)
    }

    @Test("processes that opened the store before a compaction follow it, and their appends land in the new journal")
    func followCompaction() throws {
        let a = try LocalStore(directory: dir.path, journalLimit: 8)
        let b = try LocalStore(directory: dir.path, journalLimit: 8)
        _ = try fill(a, 0..<10)
        #expect(b.lookup(Self.action(3)) != nil)
        #expect(a.compactIfDue())
        // b still has the old journal open; its next append and lookups follow the compaction.
        let late = try fill(b, 10..<12, prefix: "late")
        let fresh = try LocalStore(directory: dir.path)
        for n in 0..<12 { #expect(fresh.lookup(Self.action(n)) != nil, "entry \(n)") }
        #expect(a.lookup(Self.action(11))?.entry.outputID == late[Self.action(11)])
        #expect(fresh.entryCount == 12)
    }

    @Test("a newer journal record overrides the table's, and the entry count does not count it twice")
    func journalOverridesTable() throws {
        let store = try LocalStore(directory: dir.path)
        _ = try fill(store, 0..<5)
        try store.compact()
        let replaced = try fill(store, 2..<3, prefix: "replaced")
        let reader = try LocalStore(directory: dir.path)
        #expect(reader.lookup(Self.action(2))?.entry.outputID == replaced[Self.action(2)])
        #expect(reader.entryCount == 5)
        try reader.compact()
        #expect(try LocalStore(directory: dir.path).lookup(Self.action(2))?.entry.outputID == replaced[Self.action(2)])
    }

    @Test("using a table entry updates its last use in place: touches do not grow the journal")
    func touchInPlace() throws {
        let store = try LocalStore(directory: dir.path)
        let (digest, _) = try store.publish(bytes: Array("used long ago".utf8))
        let path = store.blobPath(digest)
        let stamp = BlobStamp(FileSystem.status(path)!)
        let longAgo = Timestamp.now() - .seconds(3 * 3600)
        let entry = ActionEntry(outputID: digest, size: 13, time: longAgo)
        try store.append([IndexRecord(actionID: Self.action(1), entry: entry, lastUse: longAgo, stamp: stamp)])
        try store.compact()
        let reader = try LocalStore(directory: dir.path)
        #expect(reader.lookup(Self.action(1)) != nil)
        #expect(FileSystem.status(dir.sub("v1/index"))?.st_size == 0, "no touch record appended")
        let used = try #require(reader.state.withLock { $0.table?.find(Self.action(1))?.record.lastUse })
        #expect(used > longAgo + .seconds(3600))
        // The in-place touch keeps the entry when a trim two hours later removes what is older.
        let later = Timestamp.now() + .seconds(90 * 60)
        let report = try reader.trim(TrimPolicy(maxSize: nil, maxAge: .seconds(2 * 3600)), now: later)
        #expect(report.entriesAfter == 1)
    }

    @Test("a damaged table is never trusted: a flipped record is a miss, a truncated table is ignored")
    func damagedTable() throws {
        let store = try LocalStore(directory: dir.path)
        _ = try fill(store, 0..<20)
        try store.compact()
        let tablePath = dir.sub("v1/table")
        var bytes = try FileSystem.readFile(tablePath)
        let header = try #require(bytes.withUnsafeBytes { IndexTable.Header($0) })
        let recordsOffset = IndexTable.headerSize + 4 << header.fanoutBits
        // Flip one bit of the OutputID of the record in slot 7.
        bytes[recordsOffset + 7 * IndexRecord.size + 50] ^= 0x10
        try FileSystem.writeFileAtomically(tablePath, bytes)
        let reader = try LocalStore(directory: dir.path)
        let hits = (0..<20).filter { reader.lookup(Self.action($0)) != nil }
        #expect(hits.count == 19)

        try FileSystem.writeFileAtomically(tablePath, Array(bytes.dropLast(100)))
        let truncated = try LocalStore(directory: dir.path)
        #expect(truncated.state.withLock { $0.table == nil })
        #expect(truncated.lookup(Self.action(3)) == nil)
        // Writing still works, and the next compaction replaces the damaged table.
        _ = try fill(truncated, 100..<101)
        try truncated.compact()
        #expect(try LocalStore(directory: dir.path).lookup(Self.action(100)) != nil)
    }

    @Test("a journal longer than one chunk (a store from before the table) is merged through sorted runs")
    func longJournal() throws {
        let store = try LocalStore(directory: dir.path, journalLimit: 1 << 20)
        let outputs = try fill(store, 0..<50)
        let replaced = try fill(store, 10..<20, prefix: "second")
        let merge = try IndexMerge(
            table: nil, journalPath: dir.sub("v1/index"), tempDirectory: dir.sub("v1/tmp"), chunkRecords: 7)
        #expect(merge.runs.count > 1)
        var seen: [IndexRecord] = []
        try merge.scan { seen.append($0) }
        merge.removeFiles()
        #expect(seen.count == 50)
        #expect(zip(seen, seen.dropFirst()).allSatisfy { $0.actionID < $1.actionID })
        for r in seen {
            #expect(r.entry.outputID == (replaced[r.actionID] ?? outputs[r.actionID]))
        }
        #expect(
            (try? FileManager.default.contentsOfDirectory(atPath: dir.sub("v1/tmp")))?.isEmpty == true, "runs removed")
    }

    @Test("a store of 70,000 entries compacts through sorted runs; a new process finds any of them and holds none")
    func largeStore() throws {
        let store = try LocalStore(directory: dir.path, journalLimit: 1 << 20)
        let stamp = BlobStamp(size: 1, changeTime: 1, inode: 1)
        var records: [IndexRecord] = []
        for n in 0..<70_000 {
            let entry = ActionEntry(
                outputID: Self.action(n + 1_000_000), size: 1, time: Timestamp(nanoseconds: Int64(n)))
            records.append(IndexRecord(actionID: Self.action(n), entry: entry, lastUse: .now(), stamp: stamp))
            if records.count == 10_000 {
                try store.append(records)
                records.removeAll()
            }
        }
        #expect(try store.compact() == 70_000)
        let reader = try LocalStore(directory: dir.path)
        #expect(reader.isEmpty == false)
        #expect(reader.state.withLock { $0.journal.isEmpty && $0.stamps.isEmpty && $0.table?.count == 70_000 })
        let table = try #require(reader.state.withLock { $0.table })
        for n in stride(from: 0, to: 70_000, by: 331) {
            #expect(table.find(Self.action(n))?.record.entry.outputID == Self.action(n + 1_000_000), "entry \(n)")
        }
        #expect(table.find(Self.action(70_001)) == nil)
    }

    @Test("background checks reach table entries through the recency list")
    func precheckTable() async throws {
        let store = try LocalStore(directory: dir.path)
        let outputs = try fill(store, 0..<30)
        try store.compact()
        let fresh = try LocalStore(directory: dir.path)
        fresh.startPrecheck()
        try await waitWhile { fresh.isPrechecking }
        #expect(outputs.values.allSatisfy { fresh.wasPrechecked($0) })
        fresh.stopPrecheck()
    }

    @Test("background checks stop a bounded number of candidates ahead, even when the entries share one blob")
    func precheckBudget() async throws {
        let store = try LocalStore(directory: dir.path)
        let (digest, path) = try store.publish(bytes: Array("shared by all".utf8))
        let stamp = BlobStamp(FileSystem.status(path)!)
        let entry = ActionEntry(outputID: digest, size: 13, time: .now())
        try store.append(
            (0..<3000).map { IndexRecord(actionID: Self.action($0), entry: entry, lastUse: .now(), stamp: stamp) })
        try store.compact()
        let fresh = try LocalStore(directory: dir.path)
        fresh.startPrecheck()
        try await waitWhile { fresh.isPrechecking }
        fresh.stopPrecheck()
        #expect(fresh.wasPrechecked(digest))
        let taken = fresh.state.withLock { $0.precheck.position }
        #expect(taken <= Precheck.ahead + Precheck.batchSize, "read \(taken) of 3,000 candidates without a lookup")
    }

    @Test("trim streams: entries whose blob is gone go, shared blobs count once, the table is rewritten")
    func streamingTrim() throws {
        let store = try LocalStore(directory: dir.path)
        let outputs = try fill(store, 0..<12)
        // Two more actions share output 0's blob.
        for n in 100..<102 {
            try store.record(
                ActionEntry(outputID: outputs[Self.action(0)]!, size: 8, time: .now()), for: Self.action(n))
        }
        try store.compact()
        chmod(store.blobPath(outputs[Self.action(5)]!), 0o644)
        unlink(store.blobPath(outputs[Self.action(5)]!))
        let report = try store.trim(TrimPolicy(maxSize: nil, maxAge: nil))
        #expect(report.entriesBefore == 14)
        #expect(report.entriesAfter == 13)
        #expect(report.bytesAfter == store.summary().bytes)
        #expect(try LocalStore(directory: dir.path).lookup(Self.action(101)) != nil)
        #expect(
            (try? FileManager.default.contentsOfDirectory(atPath: dir.sub("v1/tmp")))?.isEmpty == true,
            "no partition left")
    }

    private func waitWhile(_ condition: () -> Bool) async throws {
        try await Polling.until { !condition() }
    }
}
