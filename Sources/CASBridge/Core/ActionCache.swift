/// A map from Go ActionIDs to the entry of the output they produced.
public protocol ActionCache: Sendable {
    /// Returns the entry recorded for `actionID`, or nil if there is none.
    func entry(for actionID: Digest) async throws -> ActionEntry?

    /// Records `entry` for `actionID`. The entry's blob must already be in the store.
    func record(_ entry: ActionEntry, for actionID: Digest) async throws
}

/// A store that holds both blobs and action entries: the contract every backend
/// (local directory, HTTP cache, S3 bucket, REAPI server) fulfils.
public typealias CacheStore = ActionCache & ContentStore
