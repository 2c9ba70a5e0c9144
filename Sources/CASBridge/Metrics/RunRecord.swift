/// The summary of one helper run: what `-v` prints, what `--stats-file` holds and what
/// the store's run log keeps for `cacheprog stats`.
public struct RunRecord: Codable, Sendable, Equatable {
    /// When the run ended, RFC 3339.
    public var time: String
    /// Seconds the run took.
    public var elapsedSeconds: Double
    /// CPU seconds (user and system) the helper used up to the end of the run.
    public var cpuSeconds: Double?
    /// The helper's peak resident memory in KiB (`ru_maxrss`), when known.
    public var peakRSSKiB: Int?
    /// Get requests.
    public var gets: Int
    /// Gets answered with a hit (local or remote).
    public var hits: Int
    /// Hits from the local store.
    public var localHits: Int
    /// Hits from the remote store.
    public var remoteHits: Int
    /// Gets answered with a miss.
    public var misses: Int
    /// Put requests.
    public var puts: Int
    /// Puts rejected.
    public var putErrors: Int
    /// Bytes received in puts.
    public var putBytes: Int64
    /// Bytes of outputs served on hits.
    public var hitBytes: Int64
    /// Corrupt blobs detected and not served.
    public var corruptBlobs: Int
    /// Actions built after a miss (a put of an ActionID whose get missed); nil in older records.
    public var builtActions: Int?
    /// Seconds from those misses to their puts, summed: the build time the cache saves when
    /// the same actions hit later; nil in older records.
    public var buildSeconds: Double?
    /// Remote counters, when a remote is configured.
    public var remote: RemoteCounters?

    /// Counters of the remote tier.
    public struct RemoteCounters: Codable, Sendable, Equatable {
        /// The remote's kind (`http`, `s3`, `grpc`).
        public var backend: String
        /// Gets the remote answered with a miss.
        public var misses: Int
        /// Failed remote calls.
        public var errors: Int
        /// Bytes downloaded.
        public var bytesDown: Int64
        /// Bytes uploaded.
        public var bytesUp: Int64
        /// Blobs uploaded.
        public var uploads: Int
        /// Uploads skipped because the remote had the blob.
        public var uploadsSkipped: Int
        /// Uploads dropped.
        public var uploadsDropped: Int
        /// Times the circuit breaker opened.
        public var breakerTrips: Int
        /// Records in the warm manifest loaded at start.
        public var manifestRecords: Int? = nil
        /// Remote hits served through the warm manifest.
        public var manifestHits: Int? = nil
        /// Warm-manifest segments read.
        public var segmentReads: Int? = nil
        /// Warm-manifest segments uploaded.
        public var segmentUploads: Int? = nil
        /// Entries refused with `--trust signed` (no valid signature from a trusted key).
        public var untrustedEntries: Int? = nil
        /// Latency of remote calls by operation.
        public var latency: [String: LatencyHistogram]? = nil
        /// Wire compression of blob transfers; `ratio` is raw bytes per wire byte.
        public var compression: CompressionStatistics? = nil
    }

    /// Builds the record of a run from its counters.
    public init(
        _ s: HelperStatistics.Snapshot, elapsedSeconds: Double, cpuSeconds: Double? = nil, remoteName: String?,
        time: Timestamp = .now()
    ) {
        self.time = time.rfc3339
        self.elapsedSeconds = elapsedSeconds
        self.cpuSeconds = cpuSeconds
        gets = s.gets
        hits = s.hits
        localHits = s.localHits
        remoteHits = s.remoteHits
        misses = s.misses
        puts = s.puts
        putErrors = s.putErrors
        putBytes = s.putBytes
        hitBytes = s.hitBytes
        corruptBlobs = s.corruptBlobs
        builtActions = s.builtActions
        buildSeconds = s.buildSeconds
        remote = remoteName.map {
            RemoteCounters(
                backend: $0, misses: s.remoteMisses, errors: s.remoteErrors, bytesDown: s.bytesDown,
                bytesUp: s.bytesUp, uploads: s.uploads, uploadsSkipped: s.uploadsSkipped,
                uploadsDropped: s.uploadsDropped, breakerTrips: s.breakerTrips,
                manifestRecords: s.manifestRecords, manifestHits: s.manifestHits,
                segmentReads: s.segmentReads, segmentUploads: s.segmentUploads, untrustedEntries: s.untrustedEntries,
                latency: s.remoteLatency.isEmpty ? nil : s.remoteLatency,
                compression: s.remoteCompression.rawBytes > 0 ? s.remoteCompression : nil)
        }
    }

    /// The one-line summary printed by `-v`.
    public var summaryLine: String {
        var line =
            "cacheprog: \(gets) gets (\(hits) hits, \(misses) misses), \(puts) puts"
            + " (\(Self.bytes(putBytes)))"
        if putErrors > 0 { line += ", \(putErrors) rejected puts" }
        if corruptBlobs > 0 { line += ", \(corruptBlobs) corrupt blobs refused" }
        if let r = remote {
            line +=
                "; remote \(r.backend): \(remoteHits) hits, \(r.misses) misses, \(Self.bytes(r.bytesDown)) down,"
                + " \(r.uploads) uploads (\(Self.bytes(r.bytesUp)) up, \(r.uploadsSkipped) already there,"
                + " \(r.uploadsDropped) dropped), \(r.errors) errors"
            if r.breakerTrips > 0 { line += ", breaker opened \(r.breakerTrips)×" }
            if let m = r.manifestRecords, m > 0 {
                line += ", warm manifest \(m) entries (\(r.manifestHits ?? 0) hits)"
            }
            if let n = r.segmentReads, n > 0 { line += ", \(n) segments read" }
            if let n = r.segmentUploads, n > 0 { line += ", \(n) segments written" }
            if let n = r.untrustedEntries, n > 0 { line += ", \(n) untrusted entries refused" }
            if let c = r.compression, c.compressedBlobs > 0 {
                line += ", zstd \((c.ratio * 10).rounded() / 10)× on \(c.compressedBlobs) blobs"
            }
            if let latency = r.latency {
                let parts = latency.keys.sorted().map { op -> String in
                    let h = latency[op]!
                    return "\(op) \(h.count)× avg \(Self.milliseconds(h.mean))"
                }
                line += " [latency: \(parts.joined(separator: ", "))]"
            }
        }
        line += "; \(Int((elapsedSeconds * 1000).rounded())) ms"
        if let cpuSeconds { line += " (CPU \(Self.milliseconds(cpuSeconds)))" }
        return line
    }

    static func milliseconds(_ seconds: Double) -> String {
        let ms = seconds * 1000
        return ms < 10 ? "\((ms * 10).rounded() / 10) ms" : "\(Int(ms.rounded())) ms"
    }

    static func bytes(_ n: Int64) -> String {
        if n < 1 << 10 { return "\(n) B" }
        if n < 1 << 20 { return "\(n >> 10) KiB" }
        if n < 1 << 30 { return "\((Double(n) / 1_048_576 * 10).rounded() / 10) MiB" }
        return "\((Double(n) / 1_073_741_824 * 10).rounded() / 10) GiB"
    }
}
