import Synchronization

/// Stops calling a failing remote: once `threshold` of its last `2 × threshold` calls have
/// failed it opens and refuses calls for a cool-down that doubles up to `maxCooldown`; then
/// it lets one probe through (half-open) and closes again on success.
///
/// Counting failures among recent calls, not only consecutive ones, also takes out a remote
/// that fails every other call: one whose action cache answers while every blob read breaks
/// (a proxy that cuts large bodies short, say), which would otherwise cost every get a
/// lookup and a download with its retries.
public final class CircuitBreaker: Sendable {
    /// The breaker's position.
    public enum Position: Sendable, Equatable { case closed, open, halfOpen }

    struct State {
        /// The outcomes of the last calls, oldest first (true: failed); at most `window`.
        var recent: [Bool] = []
        var position = Position.closed
        var openedAt: ContinuousClock.Instant? = nil
        var cooldown: Duration
        var probeInFlight = false
        var trips = 0
    }

    private let state: Mutex<State>
    private let threshold: Int
    private let window: Int
    private let initialCooldown: Duration
    private let maxCooldown: Duration

    /// Creates a breaker.
    public init(threshold: Int = 5, cooldown: Duration = .seconds(2), maxCooldown: Duration = .seconds(60)) {
        self.threshold = threshold
        window = 2 * max(1, threshold)
        initialCooldown = cooldown
        self.maxCooldown = maxCooldown
        state = Mutex(State(cooldown: cooldown))
    }

    /// Whether a call may go ahead now. A true answer in the open state is the one probe.
    public func allow() -> Bool {
        state.withLock { s in
            switch s.position {
            case .closed:
                return true
            case .open:
                guard let opened = s.openedAt, ContinuousClock.now - opened >= s.cooldown else { return false }
                s.position = .halfOpen
                s.probeInFlight = true
                return true
            case .halfOpen:
                if s.probeInFlight { return false }
                s.probeInFlight = true
                return true
            }
        }
    }

    /// Records a successful call.
    public func succeeded() {
        state.withLock { s in
            if s.position == .closed {
                note(false, in: &s)
            } else {
                s.recent = []
            }
            s.position = .closed
            s.probeInFlight = false
            s.cooldown = initialCooldown
        }
    }

    /// Records a failed call. Returns true when this failure opened the breaker.
    @discardableResult
    public func failed() -> Bool {
        state.withLock { s in
            note(true, in: &s)
            switch s.position {
            case .closed:
                guard s.recent.lazy.filter({ $0 }).count >= threshold else { return false }
                s.position = .open
                s.openedAt = .now
                s.trips += 1
                return true
            case .halfOpen, .open:
                s.position = .open
                s.openedAt = .now
                s.probeInFlight = false
                s.cooldown = min(s.cooldown * 2, maxCooldown)
                return false
            }
        }
    }

    private func note(_ failed: Bool, in s: inout State) {
        s.recent.append(failed)
        if s.recent.count > window { s.recent.removeFirst(s.recent.count - window) }
    }

    /// Records a call that ended without a verdict on the remote (it failed on this machine):
    /// if it was the half-open probe, the next call may probe instead.
    public func released() {
        state.withLock { s in
            if s.position == .halfOpen { s.probeInFlight = false }
        }
    }

    /// The current position.
    public var position: Position { state.withLock { $0.position } }

    /// How many times the breaker has opened.
    public var trips: Int { state.withLock { $0.trips } }
}
