import Synchronization

/// One store that is written, in front of read-only stores asked after it in order: a
/// pull request's job writes to a prefix of its own and reads the default branch's
/// (`--remote-read`). Lookups go down the layers until one has the entry (so the warm
/// manifest comes from the first store that has one); a blob is read from the layer whose
/// entry named it, else from the layer of the last entry found, then the others. Writes,
/// and the existence checks before them, go to the written store only.
package final class LayeredStore: CacheStore {
    /// The store that is written, and asked first.
    package let written: any CacheStore
    /// The stores only read, in the order they are asked after it.
    package let readOnly: [any CacheStore]
    private let layers: [any CacheStore]

    private struct Sources {
        /// The layer whose entry named an output, for the outputs of entries found.
        var byOutput: [Digest: Int] = [:]
        /// The layer of the last entry found.
        var last = 0
    }

    private let sources = Mutex(Sources())
    /// At most this many outputs' layers are remembered.
    private static let remembered = 1 << 16

    package init(written: any CacheStore, readOnly: [any CacheStore]) {
        self.written = written
        self.readOnly = readOnly
        layers = [written] + readOnly
    }

    package var name: String { ([written] + readOnly).map(\.name).joined(separator: ", then ") }

    package func missingBlobs(_ digests: [Digest]) async throws -> Set<Digest> {
        try await written.missingBlobs(digests)
    }

    package func missingBlobs(sized blobs: [(digest: Digest, size: Int64)]) async throws -> Set<Digest> {
        try await written.missingBlobs(sized: blobs)
    }

    package func writeBlob(_ digest: Digest, size: Int64, from path: String) async throws {
        try await written.writeBlob(digest, size: size, from: path)
    }

    package func record(_ entry: ActionEntry, for actionID: Digest) async throws {
        try await written.record(entry, for: actionID)
    }

    package func record(_ entry: ActionEntry, for actionID: Digest, attaching blobs: [AttachedBlob]) async throws {
        try await written.record(entry, for: actionID, attaching: blobs)
    }

    package func compressesSegments() async -> Bool {
        await written.compressesSegments()
    }

    package func openConnections(_ count: Int) async {
        for layer in layers { await layer.openConnections(count) }
    }

    package func entry(for actionID: Digest) async throws -> ActionEntry? {
        for (i, layer) in layers.enumerated() {
            if let entry = try await layer.entry(for: actionID) {
                found(entry, in: i)
                return entry
            }
        }
        return nil
    }

    package func entryWithAttachments(for actionID: Digest) async throws -> (
        entry: ActionEntry, attached: [AttachedBlob]
    )? {
        for (i, layer) in layers.enumerated() {
            if let found = try await layer.entryWithAttachments(for: actionID) {
                self.found(found.entry, in: i)
                return found
            }
        }
        return nil
    }

    package func readBlob(_ digest: Digest, size: Int64, to sink: any BlobSink) async throws -> Bool {
        let first = sources.withLock { $0.byOutput[digest] ?? $0.last }
        for i in [first] + layers.indices.filter({ $0 != first }) {
            // Every store restarts the sink before it writes to it: no reset between layers.
            if try await layers[i].readBlob(digest, size: size, to: sink) { return true }
        }
        return false
    }

    private func found(_ entry: ActionEntry, in layer: Int) {
        sources.withLock { s in
            if s.byOutput.count >= Self.remembered { s.byOutput.removeAll() }
            s.byOutput[entry.outputID] = layer
            s.last = layer
        }
    }
}
