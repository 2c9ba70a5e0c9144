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

    /// This timestamp moved by a number of nanoseconds.
    public func adding(nanoseconds delta: Int64) -> Timestamp {
        Timestamp(nanoseconds: nanoseconds &+ delta)
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
