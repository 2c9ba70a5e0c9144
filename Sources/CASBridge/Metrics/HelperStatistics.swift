import Synchronization

/// Counters of one helper run, reported by `-v` at close, in the stats file, the metrics and the store's run log.
public final class HelperStatistics: Sendable {
    /// A snapshot of the counters.
    public struct Snapshot: Sendable, Equatable {
        /// The counters (`RunCounter`).
        public var counters = RunCounters()
        /// Latency of remote calls by operation (`get_action`, `read_blob`, `write_blob`,
        /// `find_missing`, `put_action`).
        public var remoteLatency: [String: LatencyHistogram] = [:]
        /// What wire compression did for remote transfers (filled in at close).
        public var remoteCompression = CompressionStatistics()
        /// From each miss that was followed by a put of its ActionID to that put, summed: what the go command spent
        /// building what the cache did not have (more than wall-clock time when actions run in parallel).
        public var buildTime = Duration.zero

        /// Creates empty counters.
        public init() {}

        /// The value of `counter`.
        public subscript(counter: RunCounter) -> Int64 {
            get { counters[counter] }
            set { counters[counter] = newValue }
        }

        /// Hits of either kind.
        public var hits: Int64 { counters[.localHits] + counters[.remoteHits] }
    }

    private let counters = Mutex(Snapshot())
    /// When each get that missed was answered, until the put of its ActionID.
    let pendingMisses = Mutex([Digest: ContinuousClock.Instant]())
    /// When the run started.
    public let started = ContinuousClock.now

    /// Creates empty counters.
    public init() {}

    /// Adds `amount` to `counter`.
    public func add(_ counter: RunCounter, _ amount: Int64 = 1) {
        counters.withLock { $0[counter] += amount }
    }

    /// Applies `change` to the counters.
    public func update(_ change: (inout Snapshot) -> Void) {
        counters.withLock { change(&$0) }
    }

    /// The current counters.
    public var snapshot: Snapshot { counters.withLock { $0 } }

    /// Time since the run started.
    public var elapsed: Duration { ContinuousClock.now - started }
}
