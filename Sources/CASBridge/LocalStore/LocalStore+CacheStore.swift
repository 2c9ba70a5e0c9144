import Glibc

extension LocalStore: CacheStore {
    /// `local`.
    public var name: String { "local" }

    public func missingBlobs(_ digests: [Digest]) async throws -> Set<Digest> {
        Set(digests.filter { !hasBlob($0) })
    }

    public func readBlob(_ digest: Digest, size: Int64, into path: String) async throws -> Bool {
        guard hasBlob(digest) else { return false }
        try FileSystem.copyFile(blobPath(digest), to: path)
        return true
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
        let temp = try makeTempFile(for: digest)
        close(temp.fd)
        do {
            try FileSystem.copyFile(path, to: temp.path)
            let (actual, actualSize) = try FileSystem.hashFile(temp.path)
            guard actual == digest, actualSize == size else {
                throw CASError(
                    .digestMismatch,
                    "local store: \(path) hashes to \(actual) (\(actualSize) bytes), not \(digest) (\(size) bytes)")
            }
            try publish(temp: temp.path, digest: digest, size: size, actionID: nil, time: .now())
        } catch {
            unlink(temp.path)
            throw error
        }
    }

    public func entry(for actionID: Digest) async throws -> ActionEntry? {
        lookup(actionID)?.entry
    }
}
