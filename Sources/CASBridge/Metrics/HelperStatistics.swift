import Synchronization

/// Counters of one helper run, reported by `-v` at close, in the stats file and in
/// the store's run log.
public final class HelperStatistics: Sendable {
    /// A snapshot of the counters.
    public struct Snapshot: Sendable, Equatable {
        /// Get requests.
        public var gets = 0
        /// Gets answered from the local store.
        public var localHits = 0
        /// Gets answered from the remote store.
        public var remoteHits = 0
        /// Gets answered with a miss.
        public var misses = 0
        /// Put requests.
        public var puts = 0
        /// Puts rejected (digest or size mismatch, bad base64).
        public var putErrors = 0
        /// Bytes received in puts.
        public var putBytes: Int64 = 0
        /// Bytes of blobs served on hits.
        public var hitBytes: Int64 = 0
        /// Blobs found corrupt (local or remote) and not served.
        public var corruptBlobs = 0

        /// Gets the remote store answered with a miss.
        public var remoteMisses = 0
        /// Remote calls that failed (errors, timeouts, refusals by the open breaker excluded).
        public var remoteErrors = 0
        /// Bytes downloaded from the remote store.
        public var bytesDown: Int64 = 0
        /// Bytes uploaded to the remote store.
        public var bytesUp: Int64 = 0
        /// Blobs uploaded.
        public var uploads = 0
        /// Uploads skipped because the remote already held the blob.
        public var uploadsSkipped = 0
        /// Uploads dropped (queue full, breaker open, or not finished by close).
        public var uploadsDropped = 0
        /// Times the circuit breaker opened.
        public var breakerTrips = 0
        /// Records in the warm manifest loaded at start.
        public var manifestRecords = 0
        /// Remote hits found in the warm manifest (no action-cache request).
        public var manifestHits = 0
        /// Warm-manifest segments read (each delivering many outputs).
        public var segmentReads = 0
        /// Warm-manifest segments uploaded.
        public var segmentUploads = 0
        /// Remote entries refused with `--trust signed`: no valid signature from a trusted key.
        public var untrustedEntries = 0
        /// Latency of remote calls by operation (`get_action`, `read_blob`, `write_blob`,
        /// `find_missing`, `put_action`).
        public var remoteLatency: [String: LatencyHistogram] = [:]
        /// What wire compression did for remote transfers (filled in at close).
        public var remoteCompression = CompressionStatistics()
        /// Actions the go command built after a miss: gets that missed and were followed by a put
        /// of the same ActionID.
        public var builtActions = 0
        /// Seconds from each such miss to its put, summed: what the go command spent building what
        /// the cache did not have (more than wall-clock time when actions run in parallel).
        public var buildSeconds = 0.0

        /// Hits of either kind.
        public var hits: Int { localHits + remoteHits }
    }

    private let counters = Mutex(Snapshot())
    /// When each get that missed was answered, until the put of its ActionID.
    let pendingMisses = Mutex([Digest: ContinuousClock.Instant]())
    /// When the run started.
    public let started = ContinuousClock.now

    /// Creates empty counters.
    public init() {}

    /// Applies `change` to the counters.
    public func update(_ change: (inout Snapshot) -> Void) {
        counters.withLock { change(&$0) }
    }

    /// The current counters.
    public var snapshot: Snapshot { counters.withLock { $0 } }

    /// Seconds since the run started.
    public var elapsedSeconds: Double {
        let d = ContinuousClock.now - started
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
