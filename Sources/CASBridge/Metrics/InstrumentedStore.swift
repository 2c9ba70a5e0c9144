/// Wraps a remote store and records each call's latency (by operation) in the run's
/// statistics; compression statistics are passed through.
public final class InstrumentedStore: CacheStore, CompressionReporting {
    /// The wrapped store.
    public let inner: any CacheStore
    let statistics: HelperStatistics

    /// Wraps `inner`, recording into `statistics`.
    public init(_ inner: any CacheStore, statistics: HelperStatistics) {
        self.inner = inner
        self.statistics = statistics
    }

    public var name: String { inner.name }

    public var compressionStatistics: CompressionStatistics {
        (inner as? any CompressionReporting)?.compressionStatistics ?? CompressionStatistics()
    }

    func measure<T>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        let start = ContinuousClock.now
        defer {
            let took = ContinuousClock.now - start
            statistics.update { $0.remoteLatency[operation, default: LatencyHistogram()].observe(took) }
        }
        return try await body()
    }

    public func missingBlobs(_ digests: [Digest]) async throws -> Set<Digest> {
        try await measure("find_missing") { try await inner.missingBlobs(digests) }
    }

    public func missingBlobs(sized blobs: [(digest: Digest, size: Int64)]) async throws -> Set<Digest> {
        try await measure("find_missing") { try await inner.missingBlobs(sized: blobs) }
    }

    public func readBlob(_ digest: Digest, size: Int64, to sink: any BlobSink) async throws -> Bool {
        try await measure("read_blob") { try await inner.readBlob(digest, size: size, to: sink) }
    }

    public func writeBlob(_ digest: Digest, size: Int64, from path: String) async throws {
        try await measure("write_blob") { try await inner.writeBlob(digest, size: size, from: path) }
    }

    public func openConnections(_ count: Int) async {
        await inner.openConnections(count)
    }

    public func compressesSegments() async -> Bool {
        await inner.compressesSegments()
    }

    public func entry(for actionID: Digest) async throws -> ActionEntry? {
        try await measure("get_action") { try await inner.entry(for: actionID) }
    }

    public func record(_ entry: ActionEntry, for actionID: Digest) async throws {
        try await measure("put_action") { try await inner.record(entry, for: actionID) }
    }

    public func record(_ entry: ActionEntry, for actionID: Digest, attaching blobs: [AttachedBlob]) async throws {
        try await measure("put_action") { try await inner.record(entry, for: actionID, attaching: blobs) }
    }

    public func entryWithAttachments(for actionID: Digest) async throws -> (
        entry: ActionEntry, attached: [AttachedBlob]
    )? {
        try await measure("get_action") { try await inner.entryWithAttachments(for: actionID) }
    }
}
