/// What an action cache holds for one Go ActionID: the output's digest, its size and
/// the time of the original put.
public struct ActionEntry: Hashable, Sendable {
    /// The SHA-256 of the output: Go's OutputID and the output's CAS address.
    public var outputID: Digest
    /// The output's size in bytes.
    public var size: Int64
    /// When the output was first put in the cache.
    public var time: Timestamp

    /// Creates an entry.
    public init(outputID: Digest, size: Int64, time: Timestamp) {
        self.outputID = outputID
        self.size = size
        self.time = time
    }
}
