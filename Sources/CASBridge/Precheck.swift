/// Progress of the local store's background stamp checks (`LocalStore.startPrecheck`).
///
/// Checks run in batches on a background thread, most recently recorded blobs first, and
/// stay a bounded number of blobs ahead of the lookups, so a short run checks little.
struct Precheck {
    /// Blobs checked per batch.
    static let batchSize = 256
    /// How many blobs the checks may run ahead of the lookups.
    static let ahead = 768

    /// Whether checks may run (the helper turns them on for its run).
    var enabled = false
    /// Whether a batch is running or scheduled.
    var running = false
    /// How far back in the store's record order the checks have come; nil before the first batch.
    var cursor: Int?
    /// Lookups so far.
    var lookups = 0
    /// Blobs checked so far.
    var checked = 0

    /// Whether another batch is wanted now.
    var wantsMore: Bool {
        enabled && cursor != 0 && checked < lookups + Precheck.ahead
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
        cursor = nil
        checked = 0
    }
}
