import Glibc

/// A point in time as nanoseconds since the Unix epoch, UTC.
public struct Timestamp: Hashable, Comparable, Sendable {
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    public var nanoseconds: Int64

    /// Creates a timestamp from nanoseconds since the epoch.
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// The current wall-clock time.
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }

    /// Seconds since the epoch, truncated.
    public var seconds: Int64 { nanoseconds.floorDiv(1_000_000_000) }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    /// The time from `rhs` to `lhs` (negative when `lhs` is earlier).
    public static func - (lhs: Timestamp, rhs: Timestamp) -> Duration {
        .nanoseconds(lhs.nanoseconds) - .nanoseconds(rhs.nanoseconds)
    }

    /// `lhs` moved later by `rhs`, saturating at the representable range.
    public static func + (lhs: Timestamp, rhs: Duration) -> Timestamp {
        let delta = rhs.wholeNanoseconds
        let (sum, overflow) = lhs.nanoseconds.addingReportingOverflow(delta)
        return Timestamp(nanoseconds: overflow ? (delta > 0 ? .max : .min) : sum)
    }

    /// `lhs` moved earlier by `rhs`, saturating at the representable range.
    public static func - (lhs: Timestamp, rhs: Duration) -> Timestamp {
        let delta = rhs.wholeNanoseconds
        let (difference, overflow) = lhs.nanoseconds.subtractingReportingOverflow(delta)
        return Timestamp(nanoseconds: overflow ? (delta > 0 ? .min : .max) : difference)
    }
}

extension Int64 {
    @inline(__always)
    func floorDiv(_ d: Int64) -> Int64 {
        let q = self / d
        return (self % d < 0) ? q - 1 : q
    }

    @inline(__always)
    func floorMod(_ d: Int64) -> Int64 {
        let r = self % d
        return r < 0 ? r + d : r
    }
}
