import Glibc

/// The monotonic clock, for intervals within one process.
enum Monotonic {
    /// Nanoseconds since an arbitrary fixed point.
    static func nanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
