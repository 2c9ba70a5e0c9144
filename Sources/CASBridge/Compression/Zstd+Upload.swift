extension Zstd {
    /// "Compress if it pays", the one rule of every backend's uploads: a compressed copy of the
    /// blob at `path` when it has at least `minimumSize` bytes, the remote `accepts` compressed
    /// bodies (asked only for such a blob), and compression saves at least `minimumSaving`;
    /// else nil: send the blob plain. The caller removes the copy.
    public static func compressedUpload(
        of path: String, size: Int64, accepts: () async -> Bool = { true }
    ) async throws -> (path: String, size: Int64, digest: Digest)? {
        guard size >= minimumSize, await accepts() else { return nil }
        return try await compressedCopy(of: path, size: size)
    }

    /// The same rule for a blob in memory: its compressed bytes, or nil to send it plain.
    public static func compressedUpload(_ bytes: [UInt8]) -> [UInt8]? {
        guard Int64(bytes.count) >= minimumSize else { return nil }
        let compressed = compress(bytes)
        return pays(original: Int64(bytes.count), compressed: Int64(compressed.count)) ? compressed : nil
    }
}
