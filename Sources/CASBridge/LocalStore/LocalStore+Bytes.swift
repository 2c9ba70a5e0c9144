extension LocalStore {
    /// Stores `bytes` (small, in memory) as a blob named by their hash, recording it under
    /// `actionID` if one is given, and returns its digest and path. Goes through a
    /// `BlobReceiver` like every write.
    @discardableResult
    public func publish(bytes: [UInt8], actionID: Digest? = nil, time: Timestamp = .now()) throws
        -> (digest: Digest, path: String)
    {
        let receiver = try BlobReceiver(into: self, expecting: nil, throughPageCache: true)
        try bytes.withUnsafeBytes { try receiver.write($0) }
        guard case .published(let hash, let path) = try receiver.publish(as: nil, actionID: actionID, time: time)
        else { throw CASError(.io, "local store: \(bytes.count) bytes in memory did not hash to themselves") }
        return (hash.digest, path)
    }
}
