import CASBridgeTestSupport
import Foundation
import Testing

@testable import CASBridge

/// `LocalStore.verify` on cases the helper's protocol cannot produce.
@Suite("Local store verify")
struct VerifyTests {
    let dir: TemporaryDirectory

    init() throws {
        dir = try TemporaryDirectory("verify-store")
    }

    func put(_ store: LocalStore, _ text: String, action: UInt8) throws -> Digest {
        let bytes = Array(text.utf8)
        return try store.publish(bytes: bytes, actionID: Self.action(action)).digest
    }

    static func action(_ n: UInt8) -> Digest { Digest(bytes: Array(repeating: n, count: 32))! }

    @Test("a record whose size is not its blob's is found and dropped; the intact blob stays")
    func wrongSize() throws {
        let store = try LocalStore(directory: dir.path)
        let digest = try put(store, "twelve bytes", action: 1)
        try store.record(ActionEntry(outputID: digest, size: 99, time: .now()), for: Self.action(2))
        let found = try store.verify(repair: false)
        #expect(found.recordsChecked == 2)
        #expect(found.recordsWrongSize == 1)
        #expect(found.damagedBlobs == 0)
        #expect(found.foundDamage)
        let repaired = try store.verify(repair: true)
        #expect(repaired.recordsDropped == 1)
        #expect(repaired.blobsRemoved == 0)
        #expect(FileSystem.status(store.blobPath(digest)) != nil)
        let again = try LocalStore(directory: dir.path).verify(repair: false)
        #expect(!again.foundDamage)
        #expect(again.recordsChecked == 1)
        #expect(store.lookup(Self.action(2)) == nil)
        #expect(store.lookup(Self.action(1))?.entry.outputID == digest)
    }

    @Test("scratch files in tmp/ count as stale after a day, not before")
    func staleScratch() throws {
        let store = try LocalStore(directory: dir.path)
        _ = try put(store, "content", action: 1)
        let old = "\(dir.path)/v1/tmp/put-old"
        let recent = "\(dir.path)/v1/tmp/put-recent"
        #expect(FileManager.default.createFile(atPath: old, contents: Data("x".utf8)))
        #expect(FileManager.default.createFile(atPath: recent, contents: Data("y".utf8)))
        try FileManager.default.setAttributes(
            [.modificationDate: Date().addingTimeInterval(-2 * 86_400)], ofItemAtPath: old)
        try FileManager.default.setAttributes(
            [.modificationDate: Date().addingTimeInterval(-7_200)], ofItemAtPath: recent)
        #expect(try store.verify(repair: false).staleTempFiles == 1)
        #expect(try store.verify(repair: true).tempFilesRemoved == 1)
        #expect(!FileManager.default.fileExists(atPath: old))
        #expect(FileManager.default.fileExists(atPath: recent))
        #expect(try store.verify(repair: false).foundDamage == false)
    }

    @Test("a verify of a directory without a store is an error")
    func notAStore() throws {
        let store = try LocalStore(directory: dir.path)
        try FileManager.default.removeItem(atPath: "\(dir.path)/v1/blobs")
        #expect(throws: CASError.self) { try store.verify(repair: false) }
    }
}
