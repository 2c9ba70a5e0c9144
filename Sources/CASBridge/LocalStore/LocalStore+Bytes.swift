import Glibc

extension LocalStore {
    /// Stores `bytes` (small, in memory) as a blob, without an action entry, and returns
    /// its digest and path. Goes through a temporary file like every write.
    @discardableResult
    public func publish(bytes: [UInt8], time: Timestamp = .now()) throws -> (digest: Digest, path: String) {
        let digest = SHA256.hash(bytes)
        let temp = try makeTempFile(for: digest)
        do {
            try FileSystem.writeAll(temp.fd, bytes, path: temp.path)
        } catch {
            close(temp.fd)
            unlink(temp.path)
            throw error
        }
        close(temp.fd)
        let path = try publish(temp: temp.path, digest: digest, size: Int64(bytes.count), actionID: nil, time: time)
        return (digest, path)
    }
}
