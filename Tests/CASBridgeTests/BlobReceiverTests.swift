import CASBridgeTestSupport
import Foundation
import Testing

@testable import CASBridge

@Suite("BlobReceiver")
struct BlobReceiverTests {
    static func write(_ bytes: [UInt8], to receiver: BlobReceiver) throws {
        try bytes.withUnsafeBytes { try receiver.write($0) }
    }

    @Test("content that hashes to the expected digest is published; its temporary file is gone")
    func publishesAMatch() throws {
        let dir = try TemporaryDirectory("receiver")
        let store = try LocalStore(directory: dir.path)
        let bytes = BlobFileWriterTests.pattern(BlobFileWriter.headBytes + 100_000)
        let digest = SHA256.hash(bytes)
        let receiver = try BlobReceiver(into: store, expecting: digest)
        try Self.write(bytes, to: receiver)
        guard case .published(let hash, let path) = try receiver.publish(as: digest, size: Int64(bytes.count)) else {
            Issue.record("a matching blob must be published")
            return
        }
        #expect(hash == ContentHash(digest: digest, size: Int64(bytes.count)))
        #expect(path == store.blobPath(digest))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes))
        #expect(!FileManager.default.fileExists(atPath: receiver.path))
    }

    @Test("content of the wrong digest or size is not published and its file is removed")
    func refusesAMismatch() throws {
        let dir = try TemporaryDirectory("receiver")
        let store = try LocalStore(directory: dir.path)
        let expected = Array("what the entry names".utf8)
        let digest = SHA256.hash(expected)
        let forged = Array("what the remote sent".utf8)
        let receiver = try BlobReceiver(into: store, expecting: digest)
        try Self.write(forged, to: receiver)
        guard case .mismatch(let hash) = try receiver.publish(as: digest) else {
            Issue.record("forged content must not be published")
            return
        }
        #expect(hash.digest == SHA256.hash(forged))
        #expect(!store.hasBlob(digest))
        #expect(!FileManager.default.fileExists(atPath: receiver.path))

        let short = try BlobReceiver(into: store, expecting: digest)
        try Self.write(expected, to: short)
        guard case .mismatch = try short.publish(as: digest, size: Int64(expected.count) + 1) else {
            Issue.record("content of another size must not be published")
            return
        }
        #expect(!store.hasBlob(digest))
    }

    @Test("a restart after a partial attempt starts over: only the last attempt's bytes are published")
    func restartsCleanly() throws {
        let dir = try TemporaryDirectory("receiver")
        let store = try LocalStore(directory: dir.path)
        let bytes = BlobFileWriterTests.pattern(3 * BlobFileWriter.stagingBytes + 7)
        let digest = SHA256.hash(bytes)
        let receiver = try BlobReceiver(into: store, expecting: digest)
        try receiver.restart()
        // The first attempt breaks off part-way, past the head and a staged block.
        try Self.write(Array(bytes.prefix(BlobFileWriter.headBytes + BlobFileWriter.stagingBytes + 5)), to: receiver)
        try receiver.restart()
        try Self.write(bytes, to: receiver)
        guard case .published(let hash, let path) = try receiver.publish(as: digest, size: Int64(bytes.count)) else {
            Issue.record("the retried read must be published")
            return
        }
        #expect(hash.size == Int64(bytes.count))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes))
    }

    @Test("a receiver released without publishing leaves no file behind")
    func discardsWhenReleased() throws {
        let dir = try TemporaryDirectory("receiver")
        let store = try LocalStore(directory: dir.path)
        var path = ""
        do {
            let receiver = try BlobReceiver(into: store, expecting: nil)
            path = receiver.path
            try Self.write(Array("abandoned".utf8), to: receiver)
            #expect(FileManager.default.fileExists(atPath: path))
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
