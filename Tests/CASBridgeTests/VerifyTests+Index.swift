import CASBridgeTestSupport
import Foundation
import Testing

@testable import CASBridge

/// `LocalStore.verify` on damage to the index files themselves.
extension VerifyTests {
    /// Flips one bit of the byte at `offset` of the file at `path`.
    func flip(_ path: String, at offset: Int) throws {
        var bytes = try #require(FileManager.default.contents(atPath: path))
        bytes[offset] ^= 0x10
        try bytes.write(to: URL(fileURLWithPath: path))
    }

    @Test("a torn journal tail is damage once the journal has settled, not while an append may be in flight")
    func tornJournalTail() throws {
        let store = try LocalStore(directory: dir.path)
        for n: UInt8 in 1...3 { _ = try put(store, "content \(n)", action: n) }
        let journal = "\(dir.path)/v1/index"
        let handle = try #require(FileHandle(forUpdatingAtPath: journal))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(repeating: 0xAB, count: 50))
        try handle.close()
        #expect(try store.verify(repair: false).damagedIndexRecords == 0, "an append may still be under way")
        let later = Timestamp(nanoseconds: Timestamp.now().nanoseconds + 20_000_000_000)
        let settled = try store.verify(repair: false, now: later)
        #expect(settled.damagedIndexRecords == 1)
        #expect(settled.foundDamage)
        // Records appended after the torn stretch are read past it, and it is damage at any age.
        _ = try put(store, "content 4", action: 4)
        #expect(try store.verify(repair: false).damagedIndexRecords == 1)
        let repaired = try store.verify(repair: true)
        #expect(repaired.indexRewritten)
        let fresh = try LocalStore(directory: dir.path)
        #expect(try fresh.verify(repair: false, now: later).foundDamage == false)
        for n: UInt8 in 1...4 { #expect(fresh.lookup(Self.action(n)) != nil) }
    }

    @Test("flipped journal and table records are counted; repair drops them, the others still hit")
    func flippedRecords() throws {
        let store = try LocalStore(directory: dir.path)
        for n: UInt8 in 1...6 { _ = try put(store, "content \(n)", action: n) }
        try store.compact()
        for n: UInt8 in 7...9 { _ = try put(store, "content \(n)", action: n) }
        let table = "\(dir.path)/v1/table"
        let recordsOffset = IndexTable.headerSize + 4 << IndexTable.Header.fanoutBits(for: 6)
        try flip(table, at: recordsOffset + 2 * IndexRecord.size + 45)
        try flip("\(dir.path)/v1/index", at: IndexRecord.size + 30)
        let found = try LocalStore(directory: dir.path).verify(repair: false)
        #expect(found.damagedIndexRecords == 2)
        #expect(!found.damagedTable)
        #expect(found.damagedBlobs == 0)
        let reader = try LocalStore(directory: dir.path)
        #expect((1...9).filter { reader.lookup(Self.action($0)) == nil }.count == 2, "a damaged record is a miss")
        #expect(try reader.verify(repair: true).indexRewritten)
        let after = try LocalStore(directory: dir.path)
        #expect(try after.verify(repair: false).foundDamage == false)
        #expect((1...9).filter { after.lookup(Self.action($0)) != nil }.count == 7)
    }

    @Test("a fan-out entry that misplaces records marks the table damaged; repair rewrites it and every entry hits")
    func damagedFanout() throws {
        let store = try LocalStore(directory: dir.path)
        for n: UInt8 in 1...6 { _ = try put(store, "content \(n)", action: n * 40) }
        try store.compact()
        // Bucket 0's cumulative count: no ActionID here starts with a zero byte, so it must be 0.
        try flip("\(dir.path)/v1/table", at: IndexTable.headerSize)
        let found = try LocalStore(directory: dir.path).verify(repair: false)
        #expect(found.damagedTable)
        #expect(found.damagedIndexRecords == 0)
        #expect(try LocalStore(directory: dir.path).verify(repair: true).indexRewritten)
        let after = try LocalStore(directory: dir.path)
        #expect(try after.verify(repair: false).foundDamage == false)
        for n: UInt8 in 1...6 { #expect(after.lookup(Self.action(n * 40)) != nil) }
    }
}
