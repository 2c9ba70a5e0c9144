import CASBridge
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
}
