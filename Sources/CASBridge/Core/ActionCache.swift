/// A map from Go ActionIDs to the entry of the output they produced.
public protocol ActionCache: Sendable {
    /// Returns the entry recorded for `actionID`, or nil if there is none.
    func entry(for actionID: Digest) async throws -> ActionEntry?

    /// Records `entry` for `actionID`. The entry's blob must already be in the store.
    func record(_ entry: ActionEntry, for actionID: Digest) async throws

    /// Records `entry` for `actionID` with `blobs` carried inside it where the store's entry
    /// format allows (an attachment of the entry's own output inlines it). Stores that
    /// cannot carry them record the plain entry.
    func record(_ entry: ActionEntry, for actionID: Digest, attaching blobs: [AttachedBlob]) async throws

    /// The entry recorded for `actionID` and the blobs that came inside it (unverified).
    func entryWithAttachments(for actionID: Digest) async throws -> (entry: ActionEntry, attached: [AttachedBlob])?
}

extension ActionCache {
    /// Records the plain entry: this store carries no attachments.
    public func record(_ entry: ActionEntry, for actionID: Digest, attaching blobs: [AttachedBlob]) async throws {
        try await record(entry, for: actionID)
    }

    /// The plain entry, with no attachments.
    public func entryWithAttachments(for actionID: Digest) async throws -> (
        entry: ActionEntry, attached: [AttachedBlob]
    )? {
        guard let entry = try await entry(for: actionID) else { return nil }
        return (entry, [])
    }
}

/// A store that holds both blobs and action entries: the contract every backend
/// (local directory, HTTP cache, S3 bucket, REAPI server) fulfils.
public typealias CacheStore = ActionCache & ContentStore
