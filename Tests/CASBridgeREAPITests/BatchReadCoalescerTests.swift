import CASBridge
import Foundation
import Synchronization
import Testing

@testable import CASBridgeREAPI

/// The coalescer with an in-process `send`: the server side here is a fake on purpose
/// (call counts and batch shapes are what is tested); BuildGrid runs the real calls in
/// `REAPIStoreTests` and `REAPIGoBuildTests`.
@Suite("Batch read coalescer")
struct BatchReadCoalescerTests {
    /// The digests of each call the fake server received.
    final class CallLog: Sendable {
        let calls = Mutex<[[Digest]]>([])
        var all: [[Digest]] { calls.withLock { $0 } }
    }

    static let blobs: [(digest: Digest, bytes: [UInt8])] = (0..<40).map { i in
        let bytes = Array("blob number \(i)".utf8)
        return (SHA256.hash(bytes), bytes)
    }
    static let absent = SHA256.hash(Array("absent".utf8))
    static let broken = SHA256.hash(Array("broken".utf8))

    /// A fake server that records each call's digests and answers after `delay`.
    static func server(_ log: CallLog, delay: Duration = .milliseconds(20)) -> BatchReadCoalescer.Send {
        { request in
            log.calls.withLock { $0.append(request.map(\.digest)) }
            try await Task.sleep(for: delay)
            var answers: [Digest: BatchReadCoalescer.Answer] = [:]
            for (digest, _) in request {
                if digest == broken {
                    answers[digest] = .failure(CASError(.remote, "blob \(digest) is damaged on the server"))
                } else if let blob = blobs.first(where: { $0.digest == digest }) {
                    answers[digest] = .success(Data(blob.bytes))
                } else if digest != absent {
                    answers[digest] = .success(nil)
                }
                // `absent` gets no answer at all: the coalescer must report that, not hang.
            }
            return answers
        }
    }

    @Test("concurrent reads share calls; each gets its own bytes, absence or error")
    func sharesCalls() async throws {
        let calls = CallLog()
        let coalescer = BatchReadCoalescer(maxInFlight: 1)
        let send = Self.server(calls)
        let missing = SHA256.hash(Array("missing".utf8))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for blob in Self.blobs {
                group.addTask {
                    let data = try await coalescer.read(
                        blob.digest, size: Int64(blob.bytes.count), limit: 4 << 20, send: send)
                    #expect(data == Data(blob.bytes))
                }
            }
            group.addTask {
                let data = try await coalescer.read(missing, size: 7, limit: 4 << 20, send: send)
                #expect(data == nil)
            }
            group.addTask {
                await #expect(throws: CASError.self) {
                    try await coalescer.read(Self.broken, size: 6, limit: 4 << 20, send: send)
                }
            }
            group.addTask {
                await #expect(throws: CASError.self) {
                    try await coalescer.read(Self.absent, size: 6, limit: 4 << 20, send: send)
                }
            }
            try await group.waitForAll()
        }
        let made = calls.all
        #expect(made.flatMap { $0 }.count == 43)
        #expect(made.count <= 10, "43 concurrent reads went out in \(made.count) calls")
        // A lone read later still goes out at once, on its own.
        let lone = Self.blobs[0]
        let again = try await coalescer.read(lone.digest, size: Int64(lone.bytes.count), limit: 4 << 20, send: send)
        #expect(again == Data(lone.bytes))
        #expect(calls.all.last == [lone.digest])
    }

    @Test("a call never asks for more bytes than the limit, unless one blob alone does")
    func respectsLimit() async throws {
        let calls = CallLog()
        let coalescer = BatchReadCoalescer(maxInFlight: 1)
        let send = Self.server(calls)
        // Each blob counts as 1,000 bytes (+128 of framing): two fit in 3,000, three do not.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for blob in Self.blobs.prefix(12) {
                group.addTask { _ = try await coalescer.read(blob.digest, size: 1000, limit: 3000, send: send) }
            }
            group.addTask { _ = try await coalescer.read(Self.blobs[39].digest, size: 5000, limit: 3000, send: send) }
            try await group.waitForAll()
        }
        let made = calls.all
        #expect(made.flatMap { $0 }.count == 13)
        for call in made where call.contains(Self.blobs[39].digest) {
            #expect(call.count == 1, "the oversized blob goes alone")
        }
        #expect(made.allSatisfy { $0.count <= 2 })
    }

    @Test("a failed call fails every read in it, and later reads still go out")
    func failedCall() async throws {
        let coalescer = BatchReadCoalescer(maxInFlight: 2)
        let failing: BatchReadCoalescer.Send = { _ in throw CASError(.remote, "connection refused") }
        let blob = Self.blobs[1]
        await #expect(throws: CASError.self) {
            try await coalescer.read(blob.digest, size: Int64(blob.bytes.count), limit: 4 << 20, send: failing)
        }
        let calls = CallLog()
        let data = try await coalescer.read(
            blob.digest, size: Int64(blob.bytes.count), limit: 4 << 20, send: Self.server(calls, delay: Duration.zero))
        #expect(data == Data(blob.bytes))
    }
}
