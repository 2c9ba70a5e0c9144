/// Progress of the local store's background stamp checks (`LocalStore.startPrecheck`).
///
/// Checks run in batches on a background thread, most recently recorded blobs first (the
/// journal's newest records, then the table's recency list), and stay a bounded number of
/// blobs ahead of the lookups, so a short run checks little.
struct Precheck {
    /// Blobs checked per batch.
    static let batchSize = 256
    /// How many blobs the checks may run ahead of the lookups.
    static let ahead = 768

    /// Whether checks may run (the helper turns them on for its run).
    var enabled = false
    /// Whether a batch is running or scheduled.
    var running = false
    /// Candidates taken so far, most recent first.
    var position = 0
    /// Whether every candidate has been taken.
    var exhausted = false
    /// Lookups so far.
    var lookups = 0
    /// Candidates taken so far (checked, or skipped as seen before).
    var checked = 0

    /// Whether another batch is wanted now.
    var wantsMore: Bool {
        enabled && !exhausted && checked < lookups + Precheck.ahead
    }

    /// Claims the next batch: true when the caller must schedule it.
    mutating func claim() -> Bool {
        guard !running, wantsMore else { return false }
        running = true
        return true
    }

    /// Counts a lookup; true when the caller must schedule a batch.
    mutating func noteLookup() -> Bool {
        lookups += 1
        return claim()
    }

    /// Starts over from the most recent record (after the index was replaced).
    mutating func restart() {
        position = 0
        exhausted = false
        checked = 0
    }
}
