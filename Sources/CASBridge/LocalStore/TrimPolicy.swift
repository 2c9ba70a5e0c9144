/// Limits a trim enforces on the local store.
public struct TrimPolicy: Sendable, Equatable {
    /// The largest total size of blobs to keep, in bytes; nil for no limit.
    public var maxSize: Int64?
    /// Entries not used for this long are removed; nil for no limit.
    public var maxAge: Duration?

    /// Creates a policy.
    public init(maxSize: Int64?, maxAge: Duration?) {
        self.maxSize = maxSize
        self.maxAge = maxAge
    }

    /// The policy of automatic trims: 10 GiB and 7 days.
    public static let automaticDefault = TrimPolicy(maxSize: 10 << 30, maxAge: .seconds(7 * 86_400))
}

/// What a trim did.
public struct TrimReport: Sendable, Equatable {
    /// Entries in the index before and after.
    public var entriesBefore = 0
    /// Entries kept.
    public var entriesAfter = 0
    /// Blob files removed.
    public var blobsRemoved = 0
    /// Bytes of blobs removed.
    public var bytesRemoved: Int64 = 0
    /// Bytes of blobs kept.
    public var bytesAfter: Int64 = 0
}
