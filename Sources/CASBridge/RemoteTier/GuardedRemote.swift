public import Logging
import Synchronization

/// The remote store behind its circuit breaker: runs each remote operation unless the
/// breaker is open, counts and logs failures (once when the remote goes down, once when it
/// comes back), and tells this machine's own failures (a full disk) from the remote's.
package final class GuardedRemote: Sendable {
    /// The remote store.
    package let store: any CacheStore
    /// The breaker that takes the remote out after repeated failures.
    package let breaker: CircuitBreaker
    package let statistics: HelperStatistics
    package let logger: Logger
    private let announcedDown = Atomic<Bool>(false)
    private let announcedLocalFailure = Atomic<Bool>(false)

    package init(store: any CacheStore, breaker: CircuitBreaker, statistics: HelperStatistics, logger: Logger) {
        self.store = store
        self.breaker = breaker
        self.statistics = statistics
        self.logger = logger
    }

    /// Runs `operation` against the remote unless the breaker is open; failures are
    /// counted, logged once when the breaker opens, and turned into nil. A failure of this
    /// machine's own (the local store cannot take a download) is logged once and does not
    /// count against the remote.
    package func run<T: Sendable>(_ what: String, _ operation: () async throws -> T) async -> T? {
        guard breaker.allow() else { return nil }
        do {
            let value = try await operation()
            if breaker.position != .closed || announcedDown.load(ordering: .relaxed) {
                if announcedDown.exchange(false, ordering: .relaxed) {
                    logger.notice("remote \(store.name) is reachable again")
                }
            }
            breaker.succeeded()
            return value
        } catch {
            // Stopped by us (close ended the prefetch), not a remote failure.
            if error is CancellationError || Task.isCancelled { return nil }
            // The local side failed (a full disk, say): not the remote's fault, and no reason to
            // stop uploading what the local store already holds.
            if GuardedRemote.isLocal(error) {
                breaker.released()
                if !announcedLocalFailure.exchange(true, ordering: .relaxed) {
                    logger.warning("remote \(store.name): \(what) failed on this machine, not the remote: \(error)")
                }
                return nil
            }
            statistics.add(.remoteErrors)
            logger.debug("remote \(store.name): \(what) failed: \(error)")
            if breaker.failed() {
                statistics.add(.breakerTrips)
                if !announcedDown.exchange(true, ordering: .relaxed) {
                    logger.warning(
                        "remote \(store.name) failed repeatedly (last: \(error)); continuing with the local store only")
                }
            }
            return nil
        }
    }

    /// Whether `error` is this machine's (the local file system's), not the remote's.
    package static func isLocal(_ error: any Error) -> Bool {
        error is SystemError || (error as? CASError)?.code == .io
    }
}
