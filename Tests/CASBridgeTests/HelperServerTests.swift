import CASBridge
import CASBridgeTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// The request loop in-process, with in-process fake remotes for timing edge cases.
@Suite("Helper server")
struct HelperServerTests {
    /// A remote whose lookups of chosen actions take a long time, or fail.
    final class FakeRemote: CacheStore, @unchecked Sendable {
        let name = "fake"
        let slow: Set<Digest>
        let failing: Bool
        let calls = Mutex(0)
        init(slow: Set<Digest> = [], failing: Bool = false) {
            self.slow = slow
            self.failing = failing
        }
        func missingBlobs(_ digests: [Digest]) async throws -> Set<Digest> { Set(digests) }
        func readBlob(_ digest: Digest, size: Int64, to sink: any BlobSink) async throws -> Bool { false }
        func writeBlob(_ digest: Digest, size: Int64, from path: String) async throws {}
        func entry(for actionID: Digest) async throws -> ActionEntry? {
            calls.withLock { $0 += 1 }
            if failing { throw CASError(.remote, "fake remote is down") }
            if slow.contains(actionID) { try await Task.sleep(for: .seconds(2)) }
            return nil
        }
        func record(_ entry: ActionEntry, for actionID: Digest) async throws {}
    }

    /// A remote whose every entry names a blob that cannot be stored: this machine fails to
    /// write it (`local`), or the remote fails to send it.
    final class UnstorableRemote: CacheStore, @unchecked Sendable {
        let name = "unstorable"
        let local: Bool
        let reads = Mutex(0)
        init(local: Bool) { self.local = local }
        func missingBlobs(_ digests: [Digest]) async throws -> Set<Digest> { [] }
        func readBlob(_ digest: Digest, size: Int64, to sink: any BlobSink) async throws -> Bool {
            reads.withLock { $0 += 1 }
            if local { throw SystemError("write blob \(digest)", errno: ENOSPC) }
            throw CASError(.remote, "unstorable remote: connection reset")
        }
        func writeBlob(_ digest: Digest, size: Int64, from path: String) async throws {}
        func entry(for actionID: Digest) async throws -> ActionEntry? {
            ActionEntry(outputID: actionID, size: 10, time: .now())
        }
        func record(_ entry: ActionEntry, for actionID: Digest) async throws {}
    }

    /// How the in-process server's run ended, once it has.
    final class OutcomeBox: @unchecked Sendable {
        let value = Mutex<HelperServer.Outcome?>(nil)
        /// The pipes stay open as long as the box lives.
        var pipes: [Pipe] = []
    }

    /// Runs a helper over `local` and `remote` on a thread of its own, talking through pipes:
    /// returns the handle to write requests to, the one to read answers from, and the outcome.
    func run(local: LocalStore, remote: RemoteTier, statistics: HelperStatistics) -> (
        FileHandle, FileHandle, OutcomeBox
    ) {
        let input = Pipe()
        let output = Pipe()
        let outcome = OutcomeBox()
        outcome.pipes = [input, output]
        let readFD = input.fileHandleForReading.fileDescriptor
        let writeFD = output.fileHandleForWriting.fileDescriptor
        let thread = Thread {
            let server = HelperServer(
                local: local, remote: remote, statistics: statistics, logger: Logger(label: "test"), input: readFD,
                output: writeFD)
            let result = server.run()
            outcome.value.withLock { $0 = result }
        }
        thread.start()
        return (input.fileHandleForWriting, output.fileHandleForReading, outcome)
    }

    /// Reads a response line on a thread of its own: the test must not block the
    /// concurrency pool that the server's remote lookups run on.
    static func line(_ handle: FileHandle, _ buffer: inout Data) async -> String? {
        let box = LineBox(buffer)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread {
                box.line = blockingLine(handle, &box.buffer)
                continuation.resume()
            }.start()
        }
        buffer = box.buffer
        return box.line
    }

    final class LineBox: @unchecked Sendable {
        var buffer: Data
        var line: String?
        init(_ buffer: Data) { self.buffer = buffer }
    }

    static func blockingLine(_ handle: FileHandle, _ buffer: inout Data) -> String? {
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                let l = String(decoding: buffer[buffer.startIndex..<nl], as: UTF8.self)
                buffer = Data(buffer[(nl + 1)...])
                return l
            }
            let more = handle.availableData
            if more.isEmpty { return nil }
            buffer.append(more)
        }
    }

    @Test("a slow remote lookup does not block the local hit behind it: answers come out of order")
    func outOfOrder() async throws {
        let dir = try TemporaryDirectory("server")
        let local = try LocalStore(directory: dir.path)
        let hitAction = Digest(bytes: Array(repeating: 1, count: 32))!
        let slowAction = Digest(bytes: Array(repeating: 2, count: 32))!
        let body = Array("local output".utf8)
        try local.publish(bytes: body, actionID: hitAction)

        let remote = FakeRemote(slow: [slowAction])
        let statistics = HelperStatistics()
        let tier = RemoteTier(store: remote, mode: .readonly, statistics: statistics, logger: Logger(label: "test"))
        let (toServer, fromServer, outcome) = run(local: local, remote: tier, statistics: statistics)
        var buffer = Data()
        let capabilities = await Self.line(fromServer, &buffer)
        #expect(capabilities?.contains("KnownCommands") == true)
        toServer.write(
            Data(
                "{\"ID\":1,\"Command\":\"get\",\"ActionID\":\"\(Data(slowAction.bytes).base64EncodedString())\"}\n\n"
                    .utf8))
        toServer.write(
            Data(
                "{\"ID\":2,\"Command\":\"get\",\"ActionID\":\"\(Data(hitAction.bytes).base64EncodedString())\"}\n\n"
                    .utf8))
        let firstLine = await Self.line(fromServer, &buffer)
        let first = try #require(firstLine)
        // The slow lookup sleeps 2 s before it can answer: the hit behind it came first.
        #expect(first.hasPrefix("{\"ID\":2,"), "the local hit comes first: \(first)")
        let secondLine = await Self.line(fromServer, &buffer)
        let second = try #require(secondLine)
        #expect(second == "{\"ID\":1,\"Miss\":true}")
        toServer.write(Data("{\"ID\":3,\"Command\":\"close\"}\n\n".utf8))
        let closed = await Self.line(fromServer, &buffer)
        #expect(closed == "{\"ID\":3}")
        try await Polling.until { outcome.value.withLock { $0 } != nil }
        #expect(outcome.value.withLock { $0 } == .closed)
    }

    @Test("an empty local store starts loading the warm manifest at start-up; one with entries waits for a miss")
    func warmsAtStartUp() async throws {
        let dir = try TemporaryDirectory("server")
        let remoteStore = try LocalStore(directory: dir.sub("remote"))
        var entries: [ActionEntry] = []
        for n in 1...3 { entries.append(try WarmManifestTests.put("output \(n)", action: UInt8(n), in: remoteStore)) }
        let writer = RemoteTier(
            store: remoteStore, mode: .readwrite, statistics: HelperStatistics(), logger: Logger(label: "test"),
            manifestName: "ci")
        let writerLocal = try LocalStore(directory: dir.sub("writer"))
        for n in UInt8(1)...3 {
            let action = Digest(bytes: [UInt8](repeating: n, count: 32))!
            writer.noteUse(action, try #require(await writer.fetch(action, into: writerLocal)).entry)
        }
        #expect(await writer.drain(timeout: .seconds(10)) == 0)
        #expect(remoteStore.lookup(WarmManifest.actionID(named: "ci")) != nil)

        for empty in [true, false] {
            let local = try LocalStore(directory: dir.sub(empty ? "empty" : "used"))
            if !empty { _ = try WarmManifestTests.put("something else", action: 9, in: local) }
            let remote = CountingLookups(remoteStore)
            let statistics = HelperStatistics()
            let tier = RemoteTier(
                store: remote, mode: .readonly, statistics: statistics, logger: Logger(label: "test"),
                manifestName: "ci")
            let (toServer, fromServer, _) = run(local: local, remote: tier, statistics: statistics)
            var buffer = Data()
            _ = await Self.line(fromServer, &buffer)
            // No get is sent. (The prefetch runs on the concurrency pool, which other suites may
            // keep busy: the empty store's wait ends as soon as the blobs are in.)
            if empty {
                try await Polling.until { entries.allSatisfy { local.hasBlob($0.outputID) } }
                #expect(entries.allSatisfy { local.hasBlob($0.outputID) }, "prefetched before any get")
                #expect(remote.lookups.withLock { $0 } == 1, "the manifest's entry, nothing else")
            }
            toServer.write(Data("{\"ID\":1,\"Command\":\"close\"}\n\n".utf8))
            let closed = await Self.line(fromServer, &buffer)
            #expect(closed == "{\"ID\":1}")
            if !empty {
                // The whole session, start-up to close, asked nothing.
                #expect(!entries.contains { local.hasBlob($0.outputID) })
                #expect(remote.lookups.withLock { $0 } == 0, "a store with entries asks nothing before a miss")
            }
        }
    }

    @Test("a failing remote: every get is a miss, the breaker opens, later gets don't call it")
    func failingRemote() async throws {
        let dir = try TemporaryDirectory("server")
        let local = try LocalStore(directory: dir.path)
        let remote = FakeRemote(failing: true)
        let statistics = HelperStatistics()
        let tier = RemoteTier(
            store: remote, mode: .readwrite, statistics: statistics, logger: Logger(label: "test"),
            breaker: CircuitBreaker(threshold: 3, cooldown: .seconds(3600), maxCooldown: .seconds(3600)))
        let (toServer, fromServer, _) = run(local: local, remote: tier, statistics: statistics)
        var buffer = Data()
        _ = await Self.line(fromServer, &buffer)
        for id in 1...20 {
            let action = Data(repeating: UInt8(id), count: 32).base64EncodedString()
            toServer.write(Data("{\"ID\":\(id),\"Command\":\"get\",\"ActionID\":\"\(action)\"}\n\n".utf8))
            let answer = await Self.line(fromServer, &buffer)
            #expect(answer == "{\"ID\":\(id),\"Miss\":true}")
        }
        #expect(remote.calls.withLock { $0 } == 3, "the open breaker keeps further calls away")
        #expect(statistics.snapshot[.breakerTrips] == 1)
        toServer.write(Data("{\"ID\":21,\"Command\":\"close\"}\n\n".utf8))
        let closed = await Self.line(fromServer, &buffer)
        #expect(closed == "{\"ID\":21}")
    }

    @Test(
        "a download this machine cannot store (a full disk) is a miss that does not count against the remote",
        arguments: [true, false])
    func localFailuresSpareTheRemote(local: Bool) async throws {
        let dir = try TemporaryDirectory("server")
        let store = try LocalStore(directory: dir.path)
        let remote = UnstorableRemote(local: local)
        let statistics = HelperStatistics()
        let tier = RemoteTier(
            store: remote, mode: .readonly, statistics: statistics, logger: Logger(label: "test"),
            breaker: CircuitBreaker(threshold: 3, cooldown: .seconds(3600), maxCooldown: .seconds(3600)),
            manifestName: nil)
        for i in 1...10 {
            let action = try #require(Digest(bytes: Array(repeating: UInt8(i), count: 32)))
            #expect(await tier.fetch(action, into: store) == nil)
        }
        if local {
            #expect(tier.breaker.position == .closed)
            #expect(remote.reads.withLock { $0 } == 10)
            #expect(statistics.snapshot[.remoteErrors] == 0)
        } else {
            #expect(tier.breaker.position == .open)
            #expect(remote.reads.withLock { $0 } == 3)
            #expect(statistics.snapshot[.remoteErrors] == 3)
        }
    }

    @Test("the circuit breaker half-opens after its cool-down and closes on success")
    func breaker() async throws {
        let breaker = CircuitBreaker(threshold: 2, cooldown: .milliseconds(50))
        #expect(breaker.allow())
        breaker.failed()
        #expect(breaker.failed())
        #expect(breaker.position == .open)
        #expect(!breaker.allow())
        try await Task.sleep(for: .milliseconds(80))
        #expect(breaker.allow(), "one probe after the cool-down")
        #expect(!breaker.allow(), "only one probe at a time")
        breaker.released()
        #expect(breaker.allow(), "a probe that ended without a verdict lets the next call probe")
        breaker.succeeded()
        #expect(breaker.position == .closed)
        #expect(breaker.allow())
    }

    @Test("the breaker counts failures among the last calls: a remote failing every other call is taken out")
    func breakerWindow() {
        let breaker = CircuitBreaker(threshold: 3, cooldown: .seconds(3600))
        for _ in 0..<2 {
            breaker.succeeded()
            #expect(!breaker.failed())
        }
        breaker.succeeded()
        #expect(breaker.failed(), "3 failures among the last 6 calls")
        #expect(breaker.position == .open)

        let healthy = CircuitBreaker(threshold: 3, cooldown: .seconds(3600))
        for call in 0..<60 {
            if call % 4 == 3 { #expect(!healthy.failed()) } else { healthy.succeeded() }
        }
        #expect(healthy.position == .closed, "one failure in four calls never reaches 3 of 6")
    }
}
