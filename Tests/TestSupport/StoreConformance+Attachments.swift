public import CASBridge
import Foundation
import Testing

extension StoreConformance {
    /// Blobs attached to an action entry come back with it, byte for byte, from a store
    /// that `carries` them (every remote backend); the plain entry reads as before either
    /// way. The entry's own output is attached too (it is inlined), as the warm manifest's is.
    public static func attachedBlobs(_ store: any CacheStore, backend: String, carries: Bool) async throws {
        let work = try TemporaryDirectory("conformance")
        let output = Array("a manifest \(UUID())".utf8)
        let outputID = SHA256.hash(output)
        _ = FileManager.default.createFile(atPath: work.sub("blob"), contents: Data(output))
        try await store.writeBlob(outputID, size: Int64(output.count), from: work.sub("blob"))
        let head = (0..<3).map { i in Array("first output \(i) \(UUID())".utf8) + [UInt8](repeating: 7, count: i * 1000)
        }
        let attached =
            [AttachedBlob(digest: outputID, bytes: output)]
            + head.map { AttachedBlob(digest: SHA256.hash($0), bytes: $0) }
        let actionID = SHA256.hash(Array("attaching action \(UUID())".utf8))
        let entry = ActionEntry(
            outputID: outputID, size: Int64(output.count), time: Timestamp(nanoseconds: 1_700_000_000_987_654_321))
        try await store.record(entry, for: actionID, attaching: attached)

        #expect(try await store.entry(for: actionID) == entry, "\(backend): the plain entry must read as before")
        let read = try #require(try await store.entryWithAttachments(for: actionID))
        #expect(read.entry == entry)
        if carries {
            #expect(
                Set(read.attached.map(\.digest)) == Set(attached.map(\.digest)),
                "\(backend): every attached blob must come back with the entry")
            for blob in read.attached {
                #expect(blob.isIntact, "\(backend): attached blob \(blob.digest) must come back byte for byte")
            }
        } else {
            #expect(read.attached.isEmpty)
        }
        #expect(try await store.entryWithAttachments(for: SHA256.hash(Array("absent \(UUID())".utf8))) == nil)
    }
}
