import CASBridgeTestSupport
import Foundation
import Testing

@testable import CASBridge

@Suite("Local store")
struct LocalStoreTests {
    let dir: TemporaryDirectory

    init() throws {
        dir = try TemporaryDirectory("local-store")
    }

    func put(_ store: LocalStore, _ text: String, action: UInt8, time: Timestamp = .now()) throws -> (Digest, String) {
        let bytes = Array(text.utf8)
        let (digest, path) = try store.publish(
            bytes: bytes, actionID: Digest(bytes: Array(repeating: action, count: 32)), time: time)
        return (digest, path)
    }

    static func action(_ n: UInt8) -> Digest { Digest(bytes: Array(repeating: n, count: 32))! }

    @Test("equal outputs of different actions are stored once, read-only, without extension")
    func dedupe() throws {
        let store = try LocalStore(directory: dir.path)
        let (d1, p1) = try put(store, "same bytes", action: 1)
        let (d2, p2) = try put(store, "same bytes", action: 2)
        #expect(d1 == d2)
        #expect(p1 == p2)
        #expect(store.summary().blobs == 1)
        #expect(store.summary().entries == 2)
        let attributes = try FileManager.default.attributesOfItem(atPath: p1)
        #expect((attributes[.posixPermissions] as? Int) == 0o444)
        #expect(!p1.split(separator: "/").last!.contains("."))
    }

    @Test("a second process (another open store) sees entries written after it opened")
    func sharedBetweenProcesses() throws {
        let a = try LocalStore(directory: dir.path)
        let b = try LocalStore(directory: dir.path)
        #expect(b.lookup(Self.action(5)) == nil)
        let (digest, _) = try put(a, "written by a", action: 5)
        let hit = try #require(b.lookup(Self.action(5)))
        #expect(hit.entry.outputID == digest)
    }

    @Test("each process reads the index records of the others, and its own only once")
    func interleavedAppends() throws {
        let a = try LocalStore(directory: dir.path)
        let b = try LocalStore(directory: dir.path)
        for n in UInt8(1)...6 {
            _ = try put(n % 2 == 0 ? a : b, "output \(n)", action: n)
        }
        for store in [a, b] {
            for n in UInt8(1)...6 {
                #expect(store.lookup(Self.action(n))?.entry.size == Int64("output \(n)".utf8.count))
            }
            #expect(store.entryCount == 6)
        }
        // Alone, a process never reads back what it appended.
        let alone = try LocalStore(directory: dir.sub("alone"))
        for n in UInt8(1)...6 {
            _ = try put(alone, "output \(n)", action: n)
            #expect(alone.lookup(Self.action(n + 100)) == nil)
        }
        #expect(alone.state.withLock { $0.journalOrder.count } == 6, "each record applied once")
    }

    @Test("a blob written by another process is looked at before an entry is recorded for it")
    func recordChecksOthersBlobs() throws {
        let writer = try LocalStore(directory: dir.path)
        let (digest, path) = try put(writer, "someone else's output", action: 1)
        #expect(writer.hasBlob(digest))
        let entry = ActionEntry(outputID: digest, size: Int64("someone else's output".utf8.count), time: .now())
        let reader = try LocalStore(directory: dir.path)
        #expect(reader.hasBlob(digest))
        unlink(path)
        #expect(!reader.hasBlob(digest))
        #expect(throws: CASError.self) { try reader.record(entry, for: Self.action(2)) }
    }

    @Test("a new store is not trimmed at its first close, only once the trim interval has passed")
    func newStoreTrimWaits() throws {
        let store = try LocalStore(directory: dir.path)
        _ = try put(store, "fresh output", action: 1)
        let hour = Duration.seconds(3600)
        #expect(store.trimIfDue(interval: hour, policy: TrimPolicy(maxSize: nil, maxAge: nil)) == nil)
        let later = Timestamp.now() + hour * 2
        #expect(store.trimIfDue(interval: hour, policy: TrimPolicy(maxSize: nil, maxAge: nil), now: later) != nil)
    }

    @Test("a blob changed on disk is never served; a blob merely touched is re-verified and served")
    func tamperedBlob() throws {
        let store = try LocalStore(directory: dir.path)
        let (_, path) = try put(store, "precious output", action: 1)
        _ = try put(store, "other output!!", action: 2)
        let otherPath = try #require(store.lookup(Self.action(2))).path

        // Same content, new change time: still a hit after re-hashing.
        chmod(otherPath, 0o644)
        chmod(otherPath, 0o444)
        #expect(store.lookup(Self.action(2)) != nil)

        // Different content of the same size: never served, by this store or a fresh one.
        chmod(path, 0o644)
        try Data("PRECIOUS output".utf8).write(to: URL(fileURLWithPath: path))
        #expect(store.lookup(Self.action(1)) == nil)
        let fresh = try LocalStore(directory: dir.path)
        #expect(fresh.lookup(Self.action(1)) == nil)
        #expect(!FileManager.default.fileExists(atPath: path), "the corrupt blob is removed")
        // A new put of the right content repairs it.
        _ = try put(store, "precious output", action: 1)
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: store.lookup(Self.action(1))!.path))
                == Data("precious output".utf8))
    }

    @Test("background checks clear unchanged blobs ahead of lookups and never one changed before them")
    func precheck() async throws {
        let store = try LocalStore(directory: dir.path)
        let (changed, path) = try put(store, "precious output", action: 1)
        let (unchanged, _) = try put(store, "other output!!", action: 2)
        chmod(path, 0o644)
        try Data("PRECIOUS output".utf8).write(to: URL(fileURLWithPath: path))

        let fresh = try LocalStore(directory: dir.path)
        #expect(!fresh.isPrechecked(unchanged))
        fresh.startPrecheck()
        try await Polling.until { !fresh.isPrechecking }
        #expect(fresh.wasPrechecked(unchanged))
        #expect(!fresh.wasPrechecked(changed))
        #expect(fresh.lookup(Self.action(2))?.entry.outputID == unchanged)
        #expect(fresh.lookup(Self.action(1)) == nil)
        #expect(!FileManager.default.fileExists(atPath: path), "the corrupt blob is removed")
        fresh.stopPrecheck()
    }

    @Test("a torn or garbage index tail is skipped, records after it still load")
    func tornIndex() throws {
        let store = try LocalStore(directory: dir.path)
        _ = try put(store, "first", action: 1)
        let index = FileHandle(forWritingAtPath: dir.sub("v1/index"))!
        index.seekToEndOfFile()
        index.write(Data(repeating: 0x5A, count: 37))
        try index.close()
        let other = try LocalStore(directory: dir.path)
        _ = try put(other, "second", action: 2)
        let reader = try LocalStore(directory: dir.path)
        #expect(reader.lookup(Self.action(1)) != nil)
        #expect(reader.lookup(Self.action(2)) != nil)
    }

    @Test("trim keeps recently used entries, removes old ones beyond age and size, and compacts the index")
    func trim() throws {
        let store = try LocalStore(directory: dir.path)
        for i in 1...6 {
            _ = try put(store, String(repeating: "\(i)", count: 1000 * i), action: UInt8(i))
        }
        // Everything was used just now: protected, whatever the policy.
        let protected = try store.trim(TrimPolicy(maxSize: 0, maxAge: .zero))
        #expect(protected.entriesAfter == 6)
        #expect(protected.blobsRemoved == 0)

        // Two hours later, a size cap keeps the most recently used.
        let later = Timestamp.now() + .seconds(2 * 3600)
        let report = try store.trim(TrimPolicy(maxSize: 12_000, maxAge: nil), now: later)
        #expect(report.entriesBefore == 6)
        #expect(report.bytesAfter <= 12_000)
        #expect(report.blobsRemoved > 0)
        #expect(store.summary().bytes <= 12_000)
        let reopened = try LocalStore(directory: dir.path)
        #expect(reopened.entryCount == report.entriesAfter)

        // An age limit removes everything older.
        let aged = try store.trim(TrimPolicy(maxSize: nil, maxAge: .seconds(3600)), now: later)
        #expect(aged.entriesAfter == 0)
        #expect(store.summary().blobs == 0)
        // A store whose index was compacted under it keeps working.
        _ = try put(store, "after trim", action: 9)
        #expect(try LocalStore(directory: dir.path).lookup(Self.action(9)) != nil)
    }

    @Test("a temporary file for a known digest sits beside its blob, unseen by stats, trimmed after an hour")
    func tempBesideBlob() throws {
        let store = try LocalStore(directory: dir.path)
        let bytes = Array("beside its blob".utf8)
        let digest = SHA256.hash(bytes)
        let abandoned = try store.makeTempFile(for: digest)
        close(abandoned.fd)
        let shard = String(store.blobPath(digest).dropLast(65))
        #expect(abandoned.path.hasPrefix(shard + "/.tmp-"))
        let receiver = try BlobReceiver(into: store, expecting: digest)
        #expect(receiver.path.hasPrefix(shard + "/.tmp-"))
        try bytes.withUnsafeBytes { try receiver.write($0) }
        guard case .published(_, let path) = try receiver.publish(as: digest, actionID: Self.action(1)) else {
            Issue.record("the blob must be published")
            return
        }
        #expect(path == store.blobPath(digest))
        #expect(!FileManager.default.fileExists(atPath: receiver.path))
        #expect(store.summary().blobs == 1)
        #expect(store.summary().bytes == Int64(bytes.count))

        _ = try store.trim(TrimPolicy(maxSize: nil, maxAge: nil))
        #expect(FileManager.default.fileExists(atPath: abandoned.path))
        let later = Timestamp.now() + .seconds(2 * 3600)
        _ = try store.trim(TrimPolicy(maxSize: nil, maxAge: nil), now: later)
        #expect(!FileManager.default.fileExists(atPath: abandoned.path))
        #expect(FileManager.default.fileExists(atPath: path))
    }

    @Test("the default directory follows XDG_CACHE_HOME")
    func defaultDirectory() {
        setenv("XDG_CACHE_HOME", "/some/cache", 1)
        #expect(LocalStore.defaultDirectory == "/some/cache/casbridge")
        unsetenv("XDG_CACHE_HOME")
        #expect(LocalStore.defaultDirectory.hasSuffix("/.cache/casbridge"))
    }
}
