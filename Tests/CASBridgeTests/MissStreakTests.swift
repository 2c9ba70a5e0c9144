import CASBridge
import CASBridgeTestSupport
import Logging
import Synchronization
import Testing

@Suite("Miss streak")
struct MissStreakTests {
    /// A remote that answers misses for the first `misses` lookups, then holds every lookup
    /// until `release` is set (or a generous bound passes: only a broken helper waits that
    /// long, and then gets a hit the test refuses) and answers it from `inner`.
    final class LateRemote: ForwardingStore, @unchecked Sendable {
        let misses: Int
        let lookups = Atomic<Int>(0)
        let release = Atomic<Bool>(false)

        init(_ inner: LocalStore, misses: Int) {
            self.misses = misses
            super.init(inner)
        }

        override func entry(for actionID: Digest) async throws -> ActionEntry? {
            if lookups.add(1, ordering: .relaxed).newValue <= misses { return nil }
            for _ in 0..<3000 where !release.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(10)) }
            return try await inner.entry(for: actionID)
        }
    }

    @Test("after a run of remote misses, misses no longer wait for the remote; its first hit ends the streak")
    func coldRemote() async throws {
        let dir = try TemporaryDirectory("streak")
        let backing = try LocalStore(directory: dir.sub("remote"))
        let stored = Digest(bytes: [UInt8](repeating: 7, count: 32))!
        let entry = try WarmManifestTests.put("an output the remote holds", action: 7, in: backing)
        let remote = LateRemote(backing, misses: MissStreak.threshold)
        let local = try LocalStore(directory: dir.sub("local"))
        let tier = RemoteTier(
            store: remote, mode: .readonly, statistics: HelperStatistics(), logger: Logger(label: "test"),
            manifestName: nil)
        for n in 0..<MissStreak.threshold {
            let absent = SHA256.hash(Array("absent \(n)".utf8))
            #expect(await tier.fetch(absent, into: local) == nil)
        }
        #expect(remote.lookups.load(ordering: .relaxed) == MissStreak.threshold)

        // The remote would answer a hit now, but only late: the get does not wait for it.
        #expect(await tier.fetch(stored, into: local) == nil, "a miss answered without waiting for the remote")
        #expect(await tier.fetch(stored, into: local) == nil)
        #expect(local.lookup(stored) == nil)

        // The background lookup's hit ends the streak: the next get waits and hits.
        remote.release.store(true, ordering: .relaxed)
        try await Polling.until { !tier.isSkippingMisses }
        #expect(await tier.fetch(stored, into: local)?.entry == entry)
    }
}
