import CASBridge
import CASBridgeTestSupport
import Logging
import Synchronization
import Testing

extension WarmManifestTests {
    /// A remote that carries blobs attached to action entries (as the HTTP, S3 and REAPI
    /// stores do), counts blob reads, and can damage what it hands back.
    final class CarryingStore: ForwardingStore, @unchecked Sendable {
        let attachments = Mutex<[Digest: [AttachedBlob]]>([:])
        let reads = Atomic<Int>(0)
        let forge: Bool

        init(_ inner: LocalStore, forge: Bool = false) {
            self.forge = forge
            super.init(inner)
        }

        override func record(_ entry: ActionEntry, for actionID: Digest, attaching blobs: [AttachedBlob]) async throws {
            attachments.withLock { $0[actionID] = blobs }
            try await inner.record(entry, for: actionID, attaching: blobs)
        }

        override func entryWithAttachments(for actionID: Digest) async throws -> (
            entry: ActionEntry, attached: [AttachedBlob]
        )? {
            guard let entry = try await inner.entry(for: actionID) else { return nil }
            var blobs = attachments.withLock { $0[actionID] ?? [] }
            if forge {
                for i in blobs.indices { blobs[i].bytes[0] ^= 0xFF }
            }
            return (entry, blobs)
        }

        override func readBlob(_ digest: Digest, size: Int64, to sink: any BlobSink) async throws -> Bool {
            reads.add(1, ordering: .relaxed)
            return try await super.readBlob(digest, size: size, to: sink)
        }
    }

    /// Run 1 over `store` with an empty local store: gets every action (through the action
    /// cache), then close writes the manifest.
    static func writeManifest(_ actions: [Digest], to store: any CacheStore, local directory: String) async throws {
        let local = try LocalStore(directory: directory)
        let tier = RemoteTier(
            store: store, mode: .readwrite, statistics: HelperStatistics(), logger: Logger(label: "test"),
            manifestName: "ci")
        for action in actions {
            let hit = try #require(await tier.fetch(action, into: local))
            tier.noteUse(action, hit.entry)
        }
        #expect(await tier.drain(timeout: .seconds(10)) == 0)
    }

    @Test("the manifest's entry carries the manifest and the first outputs: the next run reads no blob for them")
    func attachedHead() async throws {
        let dir = try TemporaryDirectory("manifest")
        let remote = try LocalStore(directory: dir.sub("remote"))
        let actions = (1...3).map { Digest(bytes: [UInt8](repeating: $0, count: 32))! }
        var entries: [ActionEntry] = []
        for n in 1...3 { entries.append(try Self.put("output \(n)", action: UInt8(n), in: remote)) }
        let store = CarryingStore(remote)
        try await Self.writeManifest(actions, to: store, local: dir.sub("a"))
        let attached = store.attachments.withLock { $0[WarmManifest.actionID(named: "ci")] ?? [] }
        let manifest = try #require(remote.lookup(WarmManifest.actionID(named: "ci")))
        #expect(attached.first?.digest == manifest.entry.outputID, "the manifest itself comes first")
        #expect(Set(attached.dropFirst().map(\.digest)) == Set(entries.map(\.outputID)))

        store.reads.store(0, ordering: .relaxed)
        let stats = try await Self.readAll(actions, entries, from: store, into: dir.sub("b"))
        #expect(store.reads.load(ordering: .relaxed) == 0, "neither the manifest nor a segment was read")
        #expect(stats[.manifestHits] == 3)
        #expect(stats[.corruptBlobs] == 0)
    }

    @Test("attached blobs that do not match their digest are never served: counted, and read the usual way")
    func forgedAttachments() async throws {
        let dir = try TemporaryDirectory("manifest")
        let remote = try LocalStore(directory: dir.sub("remote"))
        let actions = (1...3).map { Digest(bytes: [UInt8](repeating: $0, count: 32))! }
        var entries: [ActionEntry] = []
        for n in 1...3 { entries.append(try Self.put("output \(n)", action: UInt8(n), in: remote)) }
        try await Self.writeManifest(actions, to: CarryingStore(remote), local: dir.sub("a"))

        let forging = CarryingStore(remote, forge: true)
        forging.attachments.withLock {
            $0 = [WarmManifest.actionID(named: "ci"): remote.attachedFromManifest(entries)]
        }
        let stats = try await Self.readAll(actions, entries, from: forging, into: dir.sub("b"))
        #expect(stats[.corruptBlobs] == 4, "the manifest and the three outputs, each refused")
        #expect(forging.reads.load(ordering: .relaxed) > 0, "what was refused is read from the store")
        #expect(stats[.manifestHits] == 3, "the manifest still loads, from its blob")
    }
}

extension LocalStore {
    /// What a writer attaches to the "ci" manifest's entry: the manifest, then `entries`' blobs.
    fileprivate func attachedFromManifest(_ entries: [ActionEntry]) -> [AttachedBlob] {
        guard let manifest = lookup(WarmManifest.actionID(named: "ci")),
            let bytes = try? FileSystem.readFile(manifest.path)
        else { return [] }
        return [AttachedBlob(digest: manifest.entry.outputID, bytes: bytes)]
            + entries.compactMap { e in
                (try? FileSystem.readFile(blobPath(e.outputID))).map { AttachedBlob(digest: e.outputID, bytes: $0) }
            }
    }
}
