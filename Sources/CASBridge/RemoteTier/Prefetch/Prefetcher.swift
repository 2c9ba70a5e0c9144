/// Decides when the warm manifest's downloads start: in the go command's order of first
/// use, with at most `concurrency` downloads and a window of bytes in flight, so that what
/// the go command asks for first arrives first instead of sharing the link with everything
/// else. The downloads themselves are the `DownloadCoordinator`'s.
package struct Prefetcher: Sendable {
    /// How many blobs or segments are downloaded at once, at most.
    package let concurrency: Int
    /// How many bytes are in flight, at most (one download may exceed it), unless the
    /// remote's round trip calls for more (`bandwidth`).
    package let bytes: Int64
    /// The link speed, in bytes per second, that the window is sized for: twice the round
    /// trip's worth of it, between `bytes` and `ceiling`; 0 keeps the window at `bytes`.
    package let bandwidth: Int64
    /// The largest window.
    package static let ceiling: Int64 = 256 << 20

    package init(concurrency: Int, bytes: Int64, bandwidth: Int64) {
        self.concurrency = max(1, concurrency)
        self.bytes = max(1, bytes)
        self.bandwidth = max(0, bandwidth)
    }

    /// The window for a remote whose round trip is `roundTrip`: enough bytes in
    /// flight to keep a link of `bandwidth` busy for two round trips, so a far remote is not
    /// asked one small window at a time, and no less than `bytes`.
    package func window(roundTrip: Duration) -> Int64 {
        let wanted = Double(bandwidth) * 2 * max(0, roundTrip.inSeconds)
        return max(bytes, min(Prefetcher.ceiling, Int64(wanted)))
    }

    /// Opens the gates of the first jobs, as many as the limits allow (at least one), and
    /// returns how many: called before the manifest's entries are handed to the gets waiting
    /// for them, so the prefetch's first downloads start ahead of theirs.
    package func start(_ jobs: [PrefetchJob], window: Int64, breaker: CircuitBreaker) -> Int {
        guard breaker.position == .closed else { return 0 }
        var opened = 0
        var bytes: Int64 = 0
        while opened < jobs.count, opened == 0 || (opened < concurrency && bytes + jobs[opened].bytes <= window) {
            jobs[opened].gate.open()
            bytes += jobs[opened].bytes
            opened += 1
        }
        return opened
    }

    /// Opens the rest of the jobs' gates in order after the first `started` (see `start`),
    /// keeping at most `concurrency` downloads and `window` bytes in flight (always at least
    /// one). A failing remote (`breaker` not closed) ends the prefetch: the gates left closed
    /// open only for a get that needs their download (which may then take the breaker's
    /// half-open probe) or at close (`DownloadCoordinator.stop`).
    package func run(_ jobs: [PrefetchJob], started: Int, window: Int64, breaker: CircuitBreaker) async {
        await withTaskGroup(of: Int64.self) { group in
            var running = 0
            var runningBytes: Int64 = 0
            var next = 0
            while next < started {
                let job = jobs[next]
                next += 1
                running += 1
                runningBytes += job.bytes
                group.addTask {
                    _ = await job.finished.value
                    return job.bytes
                }
            }
            while next < jobs.count {
                if Task.isCancelled || breaker.position != .closed { break }
                let job = jobs[next]
                if running > 0 && (running >= concurrency || runningBytes + job.bytes > window) {
                    if let bytes = await group.next() {
                        running -= 1
                        runningBytes -= bytes
                    }
                    continue
                }
                next += 1
                job.gate.open()
                running += 1
                runningBytes += job.bytes
                group.addTask {
                    _ = await job.finished.value
                    return job.bytes
                }
            }
        }
    }
}
