/// A download the prefetcher starts in its turn: a segment read or one blob's. Opening
/// `gate` lets it start; `finished` lands when it is over.
package struct PrefetchJob: Sendable {
    var gate: PrefetchGate
    var bytes: Int64
    var finished: Flight<Bool>
}
