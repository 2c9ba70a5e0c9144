/// What an action cache holds for one Go ActionID: the output's digest, its size and
/// the time of the original put, and any signatures a writer made over them.
public struct ActionEntry: Hashable, Sendable {
    /// The SHA-256 of the output: Go's OutputID and the output's CAS address.
    public var outputID: Digest
    /// The output's size in bytes.
    public var size: Int64
    /// When the output was first put in the cache.
    public var time: Timestamp
    /// Signatures over the entry and its ActionID (`EntrySignature`), as the remote
    /// carried them; empty for entries of the local store and unsigned writers. They vouch
    /// for the entry and are not part of its identity: `==` and hashing ignore them.
    public var signatures: [EntrySignature]

    /// Creates an entry.
    public init(outputID: Digest, size: Int64, time: Timestamp, signatures: [EntrySignature] = []) {
        self.outputID = outputID
        self.size = size
        self.time = time
        self.signatures = signatures
    }

    public static func == (lhs: ActionEntry, rhs: ActionEntry) -> Bool {
        lhs.outputID == rhs.outputID && lhs.size == rhs.size && lhs.time == rhs.time
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(outputID)
        hasher.combine(size)
        hasher.combine(time)
    }
}
