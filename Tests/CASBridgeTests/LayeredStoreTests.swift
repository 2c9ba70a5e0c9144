import CASBridge
import CASBridgeTestSupport
import Logging
import Testing

@Suite("Layered store")
struct LayeredStoreTests {
    /// The default branch's store (read only) holding three entries and a warm manifest,
    /// and a pull request's empty one (written) in front of it.
    static func layers() async throws -> (
        TemporaryDirectory, LayeredStore, LocalStore, LocalStore, [Digest], [ActionEntry]
    ) {
        let dir = try TemporaryDirectory("layers")
        let main = try LocalStore(directory: dir.sub("main"))
        let pr = try LocalStore(directory: dir.sub("pr"))
        let actions = (1...3).map { Digest(bytes: [UInt8](repeating: $0, count: 32))! }
        var entries: [ActionEntry] = []
        for n in 1...3 { entries.append(try WarmManifestTests.put("main's output \(n)", action: UInt8(n), in: main)) }
        return (dir, LayeredStore(written: pr, readOnly: [main]), pr, main, actions, entries)
    }

    @Test("lookups fall through to the read-only store; writes and existence checks go to the written one only")
    func readsAndWrites() async throws {
        let (dir, layered, pr, main, actions, entries) = try await Self.layers()
        #expect(try await layered.entry(for: actions[0]) == entries[0], "found in the read-only layer")
        let sink = CollectingSink()
        #expect(try await layered.readBlob(entries[0].outputID, size: entries[0].size, to: sink))
        #expect(SHA256.hash(sink.bytes) == entries[0].outputID)
        #expect(try await layered.entry(for: SHA256.hash(Array("nobody's".utf8))) == nil)

        let own = try WarmManifestTests.put("the pull request's output", action: 9, in: pr)
        let ownAction = Digest(bytes: [UInt8](repeating: 9, count: 32))!
        #expect(try await layered.entry(for: ownAction) == own, "the written layer is asked first")
        #expect(
            try await layered.missingBlobs([entries[1].outputID]) == [entries[1].outputID],
            "existence is the written store's: an upload must not skip a blob only the default branch has")

        let fresh = ActionEntry(outputID: own.outputID, size: own.size, time: .now())
        let newAction = SHA256.hash(Array("a new action".utf8))
        try await layered.record(fresh, for: newAction)
        #expect(try await pr.entry(for: newAction)?.outputID == own.outputID)
        #expect(try await main.entry(for: newAction) == nil, "the read-only store is never written")
        withExtendedLifetime(dir) {}
    }

    @Test("a run with an empty written store prefetches the read-only store's warm manifest and writes its own")
    func warmManifestFromTheReadOnlyLayer() async throws {
        let (dir, _, pr, main, actions, entries) = try await Self.layers()
        let manifestID = WarmManifest.actionID(named: "ci")
        // The default branch's build wrote a manifest.
        let writer = RemoteTier(
            store: main, mode: .readwrite, statistics: HelperStatistics(), logger: Logger(label: "test"),
            manifestName: "ci")
        let writerLocal = try LocalStore(directory: dir.sub("writer"))
        for action in actions {
            writer.noteUse(action, try #require(await writer.fetch(action, into: writerLocal)).entry)
        }
        #expect(await writer.drain(timeout: .seconds(10)) == 0)
        let mainManifest = try #require(main.lookup(manifestID))

        // The pull request's run: every get of main's is a manifest hit, and one more entry of its own
        // makes its manifest differ from main's, so it is written: to its own store.
        let own = try WarmManifestTests.put("the pull request's output", action: 9, in: pr)
        let ownAction = Digest(bytes: [UInt8](repeating: 9, count: 32))!
        let layered = LayeredStore(written: pr, readOnly: [main])
        let local = try LocalStore(directory: dir.sub("pr-local"))
        let statistics = HelperStatistics()
        let tier = RemoteTier(
            store: layered, mode: .readwrite, statistics: statistics, logger: Logger(label: "test"),
            manifestName: "ci")
        for (action, entry) in zip(actions, entries) {
            let hit = try #require(await tier.fetch(action, into: local))
            #expect(hit.entry == entry)
            tier.noteUse(action, hit.entry)
        }
        #expect(statistics.snapshot[.manifestHits] == 3)
        tier.noteUse(ownAction, own)
        #expect(await tier.drain(timeout: .seconds(10)) == 0)
        #expect(main.lookup(manifestID)?.entry == mainManifest.entry, "the default branch's manifest is untouched")
        #expect(pr.lookup(manifestID) != nil, "the pull request wrote its own")
    }
}
