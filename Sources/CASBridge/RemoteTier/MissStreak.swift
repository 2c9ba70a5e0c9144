import Synchronization

/// Notices a remote that holds none of what this build asks for (a first build into an
/// empty cache, a new branch's code), so that its misses stop costing a round trip each:
/// after `threshold` action-cache misses in a row, gets not found in the warm manifest are
/// answered as misses at once, and one lookup at a time keeps asking the remote in the
/// background; its first hit ends the streak and gets wait for the remote again. Errors
/// are the breaker's business and count neither way.
package final class MissStreak: Sendable {
    /// Misses in a row after which gets stop waiting for the remote.
    package static let threshold = 32

    private struct State {
        var misses = 0
        var probing = false
    }

    private let state = Mutex(State())

    package init() {}

    /// Whether gets answer misses without waiting for the remote.
    package var isCold: Bool { state.withLock { $0.misses >= Self.threshold } }

    /// Claims the one background lookup; false while another is running.
    package func startProbe() -> Bool {
        state.withLock { s in
            guard !s.probing else { return false }
            s.probing = true
            return true
        }
    }

    /// The claimed background lookup is over.
    package func endProbe() {
        state.withLock { $0.probing = false }
    }

    /// Notes what a lookup found: a hit ends the streak, a miss extends it.
    package func note(hit: Bool) {
        state.withLock { s in
            s.misses = hit ? 0 : s.misses + 1
        }
    }
}
