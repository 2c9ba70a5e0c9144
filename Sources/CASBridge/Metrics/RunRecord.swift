/// The summary of one helper run: what `-v` prints, what `--stats-file` holds and what
/// the store's run log keeps for `cacheprog stats`. Its JSON has the run's counters at the top level and the
/// remote tier's in `remote`, under the keys `RunCounter.declaration` gives them.
public struct RunRecord: Sendable, Equatable {
    /// When the run ended, RFC 3339.
    public var time: String
    /// Seconds the run took.
    public var elapsedSeconds: Double
    /// CPU seconds (user and system) the helper used up to the end of the run.
    public var cpuSeconds: Double?
    /// The helper's peak resident memory in KiB (`ru_maxrss`), when known.
    public var peakRSSKiB: Int?
    /// The counters; the remote ones are zero, and not reported, without a remote.
    public var counters: RunCounters
    /// Seconds from each miss to the put that followed it, summed: the build time the cache saves when
    /// the same actions hit later.
    public var buildSeconds: Double
    /// What only a run with a remote has.
    public var remote: Remote?

    /// The remote tier's kind and measurements besides its counters.
    public struct Remote: Codable, Sendable, Equatable {
        /// The remote's kind (`http`, `s3`, `grpc`).
        public var backend: String
        /// Latency of remote calls by operation.
        public var latency: [String: LatencyHistogram]? = nil
        /// Wire compression of blob transfers; `ratio` is raw bytes per wire byte.
        public var compression: CompressionStatistics? = nil
    }

    /// Builds the record of a run from its counters.
    public init(
        _ s: HelperStatistics.Snapshot, elapsed: Duration, cpuSeconds: Double? = nil, remoteName: String?,
        time: Timestamp = .now()
    ) {
        self.time = time.rfc3339
        self.elapsedSeconds = elapsed.inSeconds
        self.cpuSeconds = cpuSeconds
        counters = s.counters
        buildSeconds = s.buildTime.inSeconds
        remote = remoteName.map {
            Remote(
                backend: $0, latency: s.remoteLatency.isEmpty ? nil : s.remoteLatency,
                compression: s.remoteCompression.rawBytes > 0 ? s.remoteCompression : nil)
        }
    }

    /// The value of `counter`.
    public subscript(counter: RunCounter) -> Int64 {
        get { counters[counter] }
        set { counters[counter] = newValue }
    }

    /// Hits of either kind.
    public var hits: Int64 { counters[.localHits] + counters[.remoteHits] }
}
