import Glibc

extension Zstd {
    /// Compresses the `size` bytes of the file at `source` into a new temporary file, off the
    /// concurrency pool (`runOffPool`). Returns the copy's path, size and digest, or nil,
    /// leaving nothing behind, when compression does not pay. The caller removes the copy.
    public static func compressedCopy(of source: String, size: Int64) async throws
        -> (path: String, size: Int64, digest: Digest)?
    {
        let (fd, target) = try FileSystem.makeTemporaryFile(prefix: "casbridge-zst")
        close(fd)
        do {
            guard let compressed = try await runOffPool({ try compressFile(source, size: size, to: target) }) else {
                return nil
            }
            return (target, compressed.size, compressed.digest)
        } catch {
            unlink(target)
            throw error
        }
    }
}
