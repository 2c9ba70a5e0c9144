import Glibc

/// The local store as a `CacheStore` (a remote in tests, a source for copies): writes go
/// through a `BlobReceiver` like every blob from outside.
extension LocalStore: CacheStore {
    /// `local`.
    public var name: String { "local" }

    public func missingBlobs(_ digests: [Digest]) async throws -> Set<Digest> {
        Set(digests.filter { !hasBlob($0) })
    }

    public func readBlob(_ digest: Digest, size: Int64, to sink: any BlobSink) async throws -> Bool {
        let fd: Int32
        do {
            fd = try FileSystem.open(blobPath(digest), O_RDONLY)
        } catch let error as SystemError where error.errno == ENOENT {
            return false
        }
        defer { close(fd) }
        try sink.restart()
        try FileSystem.stream(fd: fd, path: blobPath(digest)) { try sink.write($0) }
        return true
    }

    public func writeBlob(_ digest: Digest, size: Int64, from path: String) async throws {
        let receiver = try BlobReceiver(into: self, expecting: digest, throughPageCache: true)
        do {
            try FileSystem.stream(path) { try receiver.write($0) }
        } catch {
            receiver.discard()
            throw error
        }
        if case .mismatch(let hash) = try receiver.publish(as: digest, size: size) {
            throw CASError(
                .digestMismatch,
                "local store: \(path) hashes to \(hash.digest) (\(hash.size) bytes), not \(digest) (\(size) bytes)")
        }
    }

    public func entry(for actionID: Digest) async throws -> ActionEntry? {
        lookup(actionID)?.entry
    }
}
