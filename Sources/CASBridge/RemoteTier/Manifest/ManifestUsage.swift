import Synchronization

/// The entries the go command used in this run (hits and puts), in order of first use, for
/// the warm manifest written at close.
package final class ManifestUsage: Sendable {
    private struct State: ~Copyable {
        var used: [WarmManifest.Record] = []
        var usedIDs = Set<Digest>()
    }

    private let state = Mutex(State())

    package init() {}

    /// Notes that the go command used `entry` for `actionID` (the first use of each action
    /// counts; at most `WarmManifest.maxRecords`).
    package func note(_ actionID: Digest, _ entry: ActionEntry) {
        state.withLock { s in
            if s.used.count < WarmManifest.maxRecords, s.usedIDs.insert(actionID).inserted {
                s.used.append(WarmManifest.Record(actionID: actionID, entry: entry))
            }
        }
    }

    /// The records noted so far.
    package var records: [WarmManifest.Record] { state.withLock { $0.used } }
}
