import CASBridge
import Testing

extension WarmManifestTests {
    /// fuzz/corpus/manifest/crash-fac68f0d…: planning from a manifest whose record sizes add up past Int64.max
    /// trapped on the overflow. The older manifest comes from the remote, so its sizes are only known to fit
    /// their segments one by one; the helper plans from it at close.
    @Test("a plan from a manifest whose sizes add up past Int64.max does not trap")
    func sizesPastInt64() throws {
        let huge = Int64.max / 2 + 1
        var a = Self.record(1, size: huge)
        a.placement = WarmManifest.Placement(segment: 0, offset: 0)
        var b = Self.record(2, size: huge)
        b.placement = WarmManifest.Placement(segment: 0, offset: Int64.max - huge)
        let segment = WarmManifest.Segment(digest: Digest(bytes: [UInt8](repeating: 7, count: 32))!, size: .max)
        let older = try WarmManifest(decoding: WarmManifest([a, b], segments: [segment]).encoded())
        #expect(older.records.count == 2, "each record fits its segment, so the manifest is valid")

        let plan = WarmManifest.plan(used: [], older: older)
        #expect(plan.manifest.segments == [segment], "the segment is live: its records cover it")
        let compressing = WarmManifest.plan(used: older.records, older: older, compressing: true)
        #expect(compressing.manifest.records.count == 2)
        let fresh = WarmManifest.plan(
            used: [Self.record(3, size: huge), Self.record(4, size: huge)], older: nil,
            compressing: true)
        #expect(fresh.pending.map(\.pieces.count) == [1, 1], "each output larger than a segment fills one alone")
    }
}
