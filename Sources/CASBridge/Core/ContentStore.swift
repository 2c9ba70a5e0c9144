import Glibc

/// A content-addressed store of blobs keyed by the SHA-256 of their content.
///
/// Blobs move through files and sinks so that no blob is ever held whole in memory. Readers
/// of a store must not trust it: every blob fetched is received by a `BlobReceiver`, which
/// publishes it only if it hashes to its digest.
public protocol ContentStore: Sendable {
    /// A short name of the store for messages and metrics, such as `local`, `http`, `s3`.
    var name: String { get }

    /// Returns the digests among `digests` that the store does not hold.
    func missingBlobs(_ digests: [Digest]) async throws -> Set<Digest>

    /// Returns the digests among `blobs` that the store does not hold, given their sizes.
    /// Stores whose protocol addresses blobs by digest and size (REAPI) implement this;
    /// the default ignores the sizes and calls `missingBlobs(_:)`.
    func missingBlobs(sized blobs: [(digest: Digest, size: Int64)]) async throws -> Set<Digest>

    /// Delivers the blob `digest` of `size` bytes to `sink` as it arrives; returns false if
    /// the store does not hold the blob (the sink then saw nothing). The one read of a store:
    /// every attempt (a retry after a failure part-way too) starts with `sink.restart()`, so
    /// the sink holds exactly one attempt's bytes. Nothing is verified here: a
    /// `BlobReceiver` checks what it takes before anything is published.
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
    public func missingBlobs(sized blobs: [(digest: Digest, size: Int64)]) async throws -> Set<Digest> {
        try await missingBlobs(blobs.map(\.digest))
    }

    public func compressesSegments() async -> Bool { false }

    public func openConnections(_ count: Int) async {}

    /// Reads the blob into a new file at `path` (not verified) and returns the hash of what
    /// was written, or nil (and no file) if the store does not hold it. For tests and tools;
    /// the helper receives blobs with a `BlobReceiver`.
    package func readBlobHashed(_ digest: Digest, size: Int64, into path: String) async throws -> ContentHash? {
        let file = try BlobFileWriter(path: path)
        guard try await readBlob(digest, size: size, to: file) else {
            file.abandon()
            unlink(path)
            return nil
        }
        return try file.finish()
    }

    /// `readBlobHashed(_:size:into:)`, saying only whether the store holds the blob.
    package func readBlob(_ digest: Digest, size: Int64, into path: String) async throws -> Bool {
        try await readBlobHashed(digest, size: size, into: path) != nil
    }

    /// Writes blob `digest` of `size` bytes from `path` unless the store already holds it;
    /// whether it was written.
    package func writeBlobIfMissing(_ digest: Digest, size: Int64, from path: String) async throws -> Bool {
        guard try await missingBlobs(sized: [(digest, size)]).contains(digest) else { return false }
        try await writeBlob(digest, size: size, from: path)
        return true
    }
}
