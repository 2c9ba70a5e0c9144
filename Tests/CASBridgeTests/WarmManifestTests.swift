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
}
