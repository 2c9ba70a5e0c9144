import Glibc

/// A content-addressed store of blobs keyed by the SHA-256 of their content.
///
/// Blobs move through files so that no blob is ever held whole in memory. Readers of a
/// store must not trust it: callers verify every blob they fetch against its digest.
public protocol ContentStore: Sendable {
    /// A short name of the store for messages and metrics, such as `local`, `http`, `s3`.
    var name: String { get }

    /// Returns the digests among `digests` that the store does not hold.
    func missingBlobs(_ digests: [Digest]) async throws -> Set<Digest>

    /// Returns the digests among `blobs` that the store does not hold, given their sizes.
    /// Stores whose protocol addresses blobs by digest and size (REAPI) implement this;
    /// the default ignores the sizes and calls `missingBlobs(_:)`.
    func missingBlobs(sized blobs: [(digest: Digest, size: Int64)]) async throws -> Set<Digest>

    /// Copies the blob `digest` of `size` bytes into a new file at `path`.
    ///
    /// Returns false if the store does not hold the blob. The file's content is not
    /// verified here; the caller checks it against `digest` before using it.
    func readBlob(_ digest: Digest, size: Int64, into path: String) async throws -> Bool

    /// Copies the blob like `readBlob(_:size:into:)` and returns the hash of what it wrote
    /// to `path`, or nil if the store does not hold the blob. Stores that see the bytes as
    /// they write them hash them then, so callers verify a download without reading it
    /// back; the default reads the file back.
    func readBlobHashed(_ digest: Digest, size: Int64, into path: String) async throws -> ContentHash?

    /// Streams the blob `digest` of `size` bytes to `sink` as it arrives; returns false if
    /// the store does not hold the blob. Nothing is verified here: the sink checks what it
    /// takes. Remote stores deliver without a file in between; the default goes through a
    /// temporary file.
    func readBlob(_ digest: Digest, size: Int64, to sink: any BlobSink) async throws -> Bool

    /// Stores the `size` bytes of the file at `path` as blob `digest`.
    func writeBlob(_ digest: Digest, size: Int64, from path: String) async throws

    /// Whether the helper stores its warm manifest's segments zstd-compressed here: true
    /// for a store that carries blobs plain (a REAPI server without zstd), so a run with an
    /// empty local store reads a quarter of the bytes. The default is false.
    func compressesSegments() async -> Bool

    /// Opens up to `count` connections ahead of a burst of downloads (the warm manifest's
    /// prefetch), so the burst does not pay a connection set-up per transfer after its first
    /// round trip. Failures are ignored. The default does nothing (a store over one
    /// multiplexed connection, or none).
    func openConnections(_ count: Int) async
}

extension ContentStore {
    public func readBlobHashed(_ digest: Digest, size: Int64, into path: String) async throws -> ContentHash? {
        guard try await readBlob(digest, size: size, into: path) else { return nil }
        return try ContentHash(file: path)
    }

    public func readBlob(_ digest: Digest, size: Int64, to sink: any BlobSink) async throws -> Bool {
        let temp = try FileSystem.makeTemporaryFile(prefix: "casbridge-read")
        close(temp.fd)
        defer { unlink(temp.path) }
        guard try await readBlob(digest, size: size, into: temp.path) else { return false }
        try sink.restart()
        try FileSystem.stream(temp.path) { try sink.write($0) }
        return true
    }

    public func missingBlobs(sized blobs: [(digest: Digest, size: Int64)]) async throws -> Set<Digest> {
        try await missingBlobs(blobs.map(\.digest))
    }

    public func compressesSegments() async -> Bool { false }

    public func openConnections(_ count: Int) async {}
}
