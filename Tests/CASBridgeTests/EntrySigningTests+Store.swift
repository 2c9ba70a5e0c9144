import CASBridge
import CASBridgeTestSupport
import Logging
import Synchronization
import Testing

extension EntrySigningTests {
    /// `store` as a `--trust signed` reader trusting `keys` sees it, reporting into `statistics`.
    static func reader(
        _ store: any CacheStore, trusting keys: [EntrySigner], mode: TrustMode = .signed,
        statistics: HelperStatistics
    ) throws -> SignedStore {
        let trusted = try TrustedKeys(parsing: keys.map(\.publicKeyLine).joined(separator: "\n"), source: "test")
        return SignedStore(
            store, signer: nil, trusted: trusted, mode: mode,
            report: UntrustedEntryReport(statistics: statistics, logger: Logger(label: "test")))
    }

    /// A remote with `count` outputs whose entries a signing writer recorded.
    static func signedRemote(
        _ dir: TemporaryDirectory, _ key: EntrySigner, count: Int = 3
    ) async throws -> (EncodingStore, [Digest], [ActionEntry]) {
        let remote = EncodingStore(try LocalStore(directory: dir.sub("remote")))
        let writer = SignedStore(
            remote, signer: key, trusted: TrustedKeys(), mode: .any,
            report: UntrustedEntryReport(statistics: nil, logger: Logger(label: "test")))
        let actions = (1...count).map { Digest(bytes: [UInt8](repeating: UInt8($0), count: 32))! }
        var entries: [ActionEntry] = []
        for (n, action) in actions.enumerated() {
            let entry = try WarmManifestTests.put("output \(n)", action: UInt8(n + 1), in: remote.inner)
            try await writer.record(entry, for: action)
            entries.append(entry)
        }
        return (remote, actions, entries)
    }

    @Test(
        "a signed writer's entries are hits; a rewritten entry (unsigned, a stranger's, a copied signature) is a counted miss"
    )
    func poisonedEntries() async throws {
        let dir = try TemporaryDirectory("signed-store")
        let key = try Self.signer("ci-1")
        let (remote, actions, entries) = try await Self.signedRemote(dir, key)
        let statistics = HelperStatistics()
        let reader = try Self.reader(remote, trusting: [key], statistics: statistics)
        for (action, entry) in zip(actions, entries) {
            #expect(try await reader.entry(for: action) == entry)
            #expect(try await reader.entryWithAttachments(for: action)?.entry == entry)
        }
        #expect(statistics.snapshot[.untrustedEntries] == 0)

        // The attacker points action 0 at output 1: a valid blob the remote holds.
        let victim = actions[0]
        let stolen = try #require(await remote.entry(for: actions[1]))
        var poisons = [ActionEntry(outputID: stolen.outputID, size: stolen.size, time: stolen.time)]
        poisons.append(stolen)  // output 1's own signature, copied
        var stranger = poisons[0]
        stranger.signatures = [try Self.signer("ci-1").sign(stranger, for: victim)]
        poisons.append(stranger)
        for (n, poison) in poisons.enumerated() {
            remote.forge(victim, poison)
            #expect(try await reader.entry(for: victim) == nil, "poison \(n)")
            #expect(statistics.snapshot[.untrustedEntries] == Int64(n + 1))
            let any = try Self.reader(remote, trusting: [], mode: .any, statistics: HelperStatistics())
            #expect(try await any.entry(for: victim)?.outputID == stolen.outputID, "--trust any serves poison \(n)")
        }
        #expect(try await reader.entry(for: actions[2]) == entries[2], "other entries are still hits")
    }

    @Test("with layers, an untrusted entry in the written store falls through to a read-only store's trusted one")
    func layers() async throws {
        let dir = try TemporaryDirectory("signed-layers")
        let key = try Self.signer("ci-1")
        let (main, actions, entries) = try await Self.signedRemote(dir, key)
        let pr = EncodingStore(try LocalStore(directory: dir.sub("pr")))
        pr.forge(actions[0], entries[1])
        let statistics = HelperStatistics()
        let layered = LayeredStore(
            written: try Self.reader(pr, trusting: [key], statistics: statistics),
            readOnly: [try Self.reader(main, trusting: [key], statistics: statistics)])
        #expect(try await layered.entry(for: actions[0]) == entries[0])
        #expect(statistics.snapshot[.untrustedEntries] == 1)
    }

    @Test("a warm manifest with one forged record is refused whole; its gets go to the action cache and stay correct")
    func forgedManifest() async throws {
        let dir = try TemporaryDirectory("signed-manifest")
        let key = try Self.signer("ci-1")
        let (remote, actions, entries) = try await Self.signedRemote(dir, key)
        let signing = SignedStore(
            remote, signer: key, trusted: TrustedKeys(), mode: .any,
            report: UntrustedEntryReport(statistics: nil, logger: Logger(label: "test")))

        // A signing writer's run leaves a signed manifest; a --trust signed reader prefetches from it.
        // Readers are read-only: a manifest they wrote would replace the attacker's.
        func run(
            _ store: any CacheStore, _ name: String, mode: RemoteMode = .readonly, statistics: HelperStatistics
        ) async throws -> [ActionEntry] {
            let local = try LocalStore(directory: dir.sub(name))
            let tier = RemoteTier(
                store: store, mode: mode, statistics: statistics, logger: Logger(label: "test"),
                manifestName: "ci")
            var served: [ActionEntry] = []
            for action in actions {
                let hit = try #require(await tier.fetch(action, into: local))
                #expect(try FileSystem.hashFile(hit.path).0 == hit.entry.outputID)
                tier.noteUse(action, hit.entry)
                served.append(hit.entry)
            }
            #expect(await tier.drain(timeout: .seconds(10)) == 0)
            return served
        }
        _ = try await run(signing, "writer", mode: .readwrite, statistics: HelperStatistics())
        let manifestID = WarmManifest.actionID(named: "ci")
        let signedManifest = try #require(await remote.entry(for: manifestID))
        #expect(try Self.trusting(key).trusts(signedManifest, for: manifestID), "the manifest's entry is signed")
        let trustedRun = HelperStatistics()
        let readOnly = try Self.reader(remote, trusting: [key], statistics: trustedRun)
        #expect(try await run(readOnly, "trusted", statistics: trustedRun) == entries)
        #expect(trustedRun.snapshot[.manifestHits] == 3 && trustedRun.snapshot[.untrustedEntries] == 0)

        // The attacker rewrites one record to another valid output, stores that manifest and points the
        // manifest's entry at it, keeping the old signature.
        var manifest = try WarmManifest(decoding: FileSystem.readFile(remote.inner.blobPath(signedManifest.outputID)))
        let index = try #require(manifest.records.firstIndex { $0.actionID == actions[0] })
        manifest.records[index].entry = entries[1]
        manifest.segments = []
        for i in manifest.records.indices { manifest.records[i].placement = nil }
        let forged = manifest.encoded()
        try remote.inner.publish(bytes: forged)
        var forgedEntry = ActionEntry(
            outputID: SHA256.hash(forged), size: Int64(forged.count), time: signedManifest.time)
        forgedEntry.signatures = signedManifest.signatures
        remote.forge(manifestID, forgedEntry)

        let refusing = HelperStatistics()
        let guarded = try Self.reader(remote, trusting: [key], statistics: refusing)
        #expect(try await run(guarded, "refusing", statistics: refusing) == entries, "every get served the real output")
        #expect(refusing.snapshot[.manifestRecords] == 0 && refusing.snapshot[.manifestHits] == 0)
        #expect(refusing.snapshot[.untrustedEntries] >= 1)

        let fooled = HelperStatistics()
        let any = try Self.reader(remote, trusting: [], mode: .any, statistics: fooled)
        let served = try await run(any, "fooled", statistics: fooled)
        #expect(served[0] == entries[1], "--trust any takes the forged record: the attack")
    }
}
