public import CASBridge
import Foundation
import Testing

/// The behaviour every store must show, as functions over `any CacheStore` so that test
/// targets that link a backend CASBridgeTests must not depend on (the REAPI backend)
/// run the same checks. `StoreConformanceTests` runs them against every built-in backend.
public enum StoreConformance {
    /// Blobs round-trip; absent blobs are reported missing and read as absent.
    public static func blobRoundTrip(_ store: any CacheStore, backend: String) async throws {
        let work = try TemporaryDirectory("conformance")
        for size in [0, 1, 1000, 300_000] {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ size) }
            let digest = SHA256.hash(bytes)
            let source = work.sub("in-\(size)")
            _ = FileManager.default.createFile(atPath: source, contents: Data(bytes))
            try await store.writeBlob(digest, size: Int64(size), from: source)
            #expect(
                try await store.missingBlobs([digest]).isEmpty, "\(backend): blob of \(size) bytes missing after write")
            let target = work.sub("out-\(size)")
            #expect(try await store.readBlob(digest, size: Int64(size), into: target))
            #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == Data(bytes))
            let hashedTarget = work.sub("hashed-\(size)")
            let hash = try await store.readBlobHashed(digest, size: Int64(size), into: hashedTarget)
            #expect(
                hash == ContentHash(digest: digest, size: Int64(size)),
                "\(backend): a hashed read of \(size) bytes must report the hash of what it wrote")
            #expect(try Data(contentsOf: URL(fileURLWithPath: hashedTarget)) == Data(bytes))
            let sink = CollectingSink()
            #expect(try await store.readBlob(digest, size: Int64(size), to: sink))
            #expect(sink.bytes == bytes, "\(backend): a streamed read of \(size) bytes must deliver them in order")
        }
        let absent = SHA256.hash(Array("absent \(UUID())".utf8))
        #expect(try await store.missingBlobs([absent]) == [absent])
        #expect(try await store.readBlob(absent, size: 10, into: work.sub("absent")) == false)
        #expect(try await store.readBlobHashed(absent, size: 10, into: work.sub("absent-hashed")) == nil)
        let untouched = CollectingSink()
        #expect(try await store.readBlob(absent, size: 10, to: untouched) == false)
        #expect(untouched.bytes.isEmpty)
    }

    /// Put times the action entries of `actionRoundTrip` carry: each must come back to the
    /// nanosecond (sub-microsecond digits, a time one nanosecond past a whole second, now).
    static let putTimes: [Timestamp] = [
        Timestamp(nanoseconds: 1_700_000_000_123_456_789), Timestamp(nanoseconds: 1_000_000_001),
        Timestamp(nanoseconds: 1_799_999_999_999_999_999), .now(),
    ]

    /// Action entries round-trip with their time to the nanosecond; a later record replaces an
    /// earlier one.
    public static func actionRoundTrip(_ store: any CacheStore, backend: String) async throws {
        let work = try TemporaryDirectory("conformance")
        let bytes = Array("output of an action \(UUID())".utf8)
        let digest = SHA256.hash(bytes)
        _ = FileManager.default.createFile(atPath: work.sub("blob"), contents: Data(bytes))
        try await store.writeBlob(digest, size: Int64(bytes.count), from: work.sub("blob"))
        let actionID = SHA256.hash(Array("action \(UUID())".utf8))
        #expect(try await store.entry(for: actionID) == nil)
        let entry = ActionEntry(
            outputID: digest, size: Int64(bytes.count), time: Timestamp(nanoseconds: 1_700_000_000_123_456_789))
        try await store.record(entry, for: actionID)
        let read = try await store.entry(for: actionID)
        #expect(read?.outputID == digest)
        #expect(read?.size == Int64(bytes.count))
        #expect(read?.time == entry.time, "\(backend): the put time must survive the round trip")
        for time in putTimes {
            let timed = SHA256.hash(Array("timed action \(time.nanoseconds) \(UUID())".utf8))
            try await store.record(ActionEntry(outputID: digest, size: Int64(bytes.count), time: time), for: timed)
            let back = try await store.entry(for: timed)?.time
            #expect(
                back == time,
                "\(backend): put time \(time.nanoseconds) ns came back as \(back.map { "\($0.nanoseconds)" } ?? "nil") ns"
            )
        }
        // A later record for the same action replaces the earlier one.
        let other = Array("another output \(UUID())".utf8)
        let otherDigest = SHA256.hash(other)
        _ = FileManager.default.createFile(atPath: work.sub("other"), contents: Data(other))
        try await store.writeBlob(otherDigest, size: Int64(other.count), from: work.sub("other"))
        try await store.record(
            ActionEntry(outputID: otherDigest, size: Int64(other.count), time: entry.time), for: actionID)
        #expect(try await store.entry(for: actionID)?.outputID == otherDigest)
    }
}
