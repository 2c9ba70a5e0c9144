extension RunCounter {
    /// Where a counter belongs: to every run, or to the remote tier (reported only when a remote is configured).
    public enum Scope: Sendable {
        case run, remote
    }

    /// A Prometheus metric family: several counters may share one, told apart by a label.
    public struct MetricFamily: Sendable {
        /// The metric's name.
        public let name: String
        /// `counter` or `gauge`.
        public let type: String
        /// Its HELP text.
        public let help: String
    }

    /// How a counter is reported.
    public struct Declaration: Sendable {
        /// Run or remote.
        public let scope: Scope
        /// Its key in the stats JSON (within `remote` for the remote scope).
        public let key: String
        /// Its Prometheus family.
        public let family: MetricFamily
        /// Its own label within the family (`name="value"`), if the family has several counters.
        public let label: String?
    }

    /// How this counter is reported.
    public var declaration: Declaration {
        switch self {
        case .gets: run("gets", counter("gets", "Get requests from the go command."))
        case .localHits: run("localHits", Self.hits, label: "tier=\"local\"")
        case .remoteHits: run("remoteHits", Self.hits, label: "tier=\"remote\"")
        case .misses: run("misses", counter("misses", "Gets answered with a miss."))
        case .puts: run("puts", counter("puts", "Put requests from the go command."))
        case .putErrors: run("putErrors", counter("put_errors", "Puts rejected."))
        case .putBytes: run("putBytes", counter("put_bytes", "Bytes received in puts."))
        case .hitBytes: run("hitBytes", counter("hit_bytes", "Bytes of outputs served on hits."))
        case .corruptBlobs: run("corruptBlobs", counter("corrupt_blobs", "Corrupt blobs detected and not served."))
        case .builtActions:
            run("builtActions", counter("built_actions", "Actions built after a miss (a put followed the get)."))
        case .remoteMisses: remote("misses", counter("remote_misses", "Gets the remote answered with a miss."))
        case .remoteErrors: remote("errors", counter("remote_errors", "Remote calls that failed."))
        case .bytesDown: remote("bytesDown", Self.remoteBytes, label: "direction=\"down\"")
        case .bytesUp: remote("bytesUp", Self.remoteBytes, label: "direction=\"up\"")
        case .uploads: remote("uploads", Self.remoteUploads, label: "outcome=\"uploaded\"")
        case .uploadsSkipped: remote("uploadsSkipped", Self.remoteUploads, label: "outcome=\"skipped\"")
        case .uploadsDropped: remote("uploadsDropped", Self.remoteUploads, label: "outcome=\"dropped\"")
        case .breakerTrips:
            remote("breakerTrips", counter("remote_breaker_trips", "Times the circuit breaker opened."))
        case .manifestRecords:
            remote(
                "manifestRecords",
                MetricFamily(
                    name: "cacheprog_remote_manifest_records", type: "gauge",
                    help: "Records in the warm manifest loaded at start."))
        case .manifestHits:
            remote("manifestHits", counter("remote_manifest_hits", "Remote hits served through the warm manifest."))
        case .segmentReads: remote("segmentReads", counter("remote_segment_reads", "Warm-manifest segments read."))
        case .segmentUploads:
            remote("segmentUploads", counter("remote_segment_uploads", "Warm-manifest segments uploaded."))
        case .untrustedEntries:
            remote(
                "untrustedEntries",
                counter(
                    "remote_untrusted_entries",
                    "Remote entries refused: no valid signature from a trusted key (--trust signed)."))
        }
    }

    private static let hits = counter("hits", "Gets answered with a hit, by tier.")
    private static let remoteBytes = counter(
        "remote_bytes", "Blob bytes moved to and from the remote (uncompressed).")
    private static let remoteUploads = counter("remote_uploads", "Uploads by outcome.")

    private static func counter(_ name: String, _ help: String) -> MetricFamily {
        MetricFamily(name: "cacheprog_\(name)_total", type: "counter", help: help)
    }

    private func counter(_ name: String, _ help: String) -> MetricFamily { Self.counter(name, help) }

    private func run(_ key: String, _ family: MetricFamily, label: String? = nil) -> Declaration {
        Declaration(scope: .run, key: key, family: family, label: label)
    }

    private func remote(_ key: String, _ family: MetricFamily, label: String? = nil) -> Declaration {
        Declaration(scope: .remote, key: key, family: family, label: label)
    }

    /// The counters of `scope`, in declaration order.
    public static func all(in scope: Scope) -> [RunCounter] { allCases.filter { $0.declaration.scope == scope } }
}
