/// Every counter a helper run keeps, declared once. `RunCounter+Declaration` says where each one is reported:
/// its key in the stats JSON (`RunRecord`) and its Prometheus sample (`PrometheusExposition`); the `-v` summary
/// line reads them by case. A new counter is one case here and one declaration there.
public enum RunCounter: Int, CaseIterable, Sendable {
    /// Get requests.
    case gets
    /// Gets answered from the local store.
    case localHits
    /// Gets answered from the remote store.
    case remoteHits
    /// Gets answered with a miss.
    case misses
    /// Put requests.
    case puts
    /// Puts rejected (digest or size mismatch, bad base64).
    case putErrors
    /// Bytes received in puts.
    case putBytes
    /// Bytes of blobs served on hits.
    case hitBytes
    /// Blobs found corrupt (local or remote) and not served.
    case corruptBlobs
    /// Actions the go command built after a miss: gets that missed and were followed by a put of the same ActionID.
    case builtActions
    /// Gets the remote store answered with a miss.
    case remoteMisses
    /// Remote calls that failed (errors and timeouts; refusals by the open breaker excluded).
    case remoteErrors
    /// Bytes downloaded from the remote store (uncompressed).
    case bytesDown
    /// Bytes uploaded to the remote store (uncompressed).
    case bytesUp
    /// Blobs uploaded.
    case uploads
    /// Uploads skipped because the remote already held the blob.
    case uploadsSkipped
    /// Uploads dropped (queue full, breaker open, or not finished by close).
    case uploadsDropped
    /// Times the circuit breaker opened.
    case breakerTrips
    /// Records in the warm manifest loaded at start.
    case manifestRecords
    /// Remote hits found in the warm manifest (no action-cache request).
    case manifestHits
    /// Warm-manifest segments read (each delivering many outputs).
    case segmentReads
    /// Warm-manifest segments uploaded.
    case segmentUploads
    /// Remote entries refused with `--trust signed`: no valid signature from a trusted key.
    case untrustedEntries
}

/// One value per `RunCounter`.
public struct RunCounters: Sendable, Equatable {
    private var values = [Int64](repeating: 0, count: RunCounter.allCases.count)

    /// All zero.
    public init() {}

    /// The value of `counter`.
    public subscript(counter: RunCounter) -> Int64 {
        get { values[counter.rawValue] }
        set { values[counter.rawValue] = newValue }
    }
}
