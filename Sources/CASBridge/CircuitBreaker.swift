import Synchronization

/// Stops calling a failing remote: after `threshold` consecutive failures it opens and
/// refuses calls for a cool-down that doubles up to `maxCooldown`; then it lets one
/// probe through (half-open) and closes again on success.
public final class CircuitBreaker: Sendable {
    /// The breaker's position.
    public enum Position: Sendable, Equatable { case closed, open, halfOpen }

    struct State {
        var consecutiveFailures = 0
        var position = Position.closed
        var openedAt: ContinuousClock.Instant? = nil
        var cooldown: Duration
        var probeInFlight = false
        var trips = 0
    }

    private let state: Mutex<State>
    private let threshold: Int
    private let initialCooldown: Duration
    private let maxCooldown: Duration

    /// Creates a breaker.
    public init(threshold: Int = 5, cooldown: Duration = .seconds(2), maxCooldown: Duration = .seconds(60)) {
        self.threshold = threshold
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
            s.consecutiveFailures = 0
            s.position = .closed
            s.probeInFlight = false
            s.cooldown = initialCooldown
        }
    }

    /// Records a failed call. Returns true when this failure opened the breaker.
    @discardableResult
    public func failed() -> Bool {
        state.withLock { s in
            s.consecutiveFailures += 1
            switch s.position {
            case .closed:
                guard s.consecutiveFailures >= threshold else { return false }
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

    /// The current position.
    public var position: Position { state.withLock { $0.position } }

    /// How many times the breaker has opened.
    public var trips: Int { state.withLock { $0.trips } }
}
