import Glibc

extension Zstd {
    /// Compresses the `size` bytes of the file at `source` into a new temporary file, off the
    /// concurrency pool (`runOffPool`). Returns the copy's path and size, or nil, leaving
    /// nothing behind, when compression does not pay. The caller removes the copy.
    public static func compressedCopy(of source: String, size: Int64) async throws -> (path: String, size: Int64)? {
        let (fd, target) = try FileSystem.makeTemporaryFile(prefix: "casbridge-zst")
        close(fd)
        do {
            guard let compressed = try await runOffPool({ try compressFile(source, size: size, to: target) }) else {
                return nil
            }
            return (target, compressed)
        } catch {
            unlink(target)
            throw error
        }
    }
}
