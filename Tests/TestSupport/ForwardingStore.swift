public import CASBridge

/// A store that passes every call to a local store. Tests subclass it and override the
/// calls whose behaviour they change (reads held back or trickled, slow uploads).
open class ForwardingStore: CacheStore, @unchecked Sendable {
    /// The store every call goes to.
    public let inner: LocalStore

    /// Forwards to `inner`.
    public init(_ inner: LocalStore) {
        self.inner = inner
    }

    open var name: String { "forwarding" }

    open func missingBlobs(_ digests: [Digest]) async throws -> Set<Digest> {
        try await inner.missingBlobs(digests)
    }

    open func readBlob(_ digest: Digest, size: Int64, to sink: any BlobSink) async throws -> Bool {
        try await inner.readBlob(digest, size: size, to: sink)
    }

    open func writeBlob(_ digest: Digest, size: Int64, from path: String) async throws {
        try await inner.writeBlob(digest, size: size, from: path)
    }

    open func entry(for actionID: Digest) async throws -> ActionEntry? {
        try await inner.entry(for: actionID)
    }

    open func record(_ entry: ActionEntry, for actionID: Digest) async throws {
        try inner.record(entry, for: actionID)
    }

    open func record(_ entry: ActionEntry, for actionID: Digest, attaching blobs: [AttachedBlob]) async throws {
        try await inner.record(entry, for: actionID, attaching: blobs)
    }

    open func entryWithAttachments(for actionID: Digest) async throws -> (
        entry: ActionEntry, attached: [AttachedBlob]
    )? {
        try await inner.entryWithAttachments(for: actionID)
    }

    open func compressesSegments() async -> Bool {
        false
    }
}
