/// A latency histogram with fixed bucket bounds (seconds), as Prometheus histograms keep them.
public struct LatencyHistogram: Codable, Sendable, Equatable {
    /// The upper bounds of the buckets, in seconds; a last `+Inf` bucket is implied.
    public static let bounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// Observations per bucket (not cumulative); one more entry than `bounds` for `+Inf`.
    public var counts: [Int]
    /// The sum of all observations, in seconds.
    public var sum: Double
    /// How many observations there were.
    public var count: Int

    /// Creates an empty histogram.
    public init() {
        counts = Array(repeating: 0, count: Self.bounds.count + 1)
        sum = 0
        count = 0
    }

    /// Records one observation.
    public mutating func observe(_ duration: Duration) {
        let seconds = duration.inSeconds
        let index = Self.bounds.firstIndex { seconds <= $0 } ?? Self.bounds.count
        counts[index] += 1
        sum += seconds
        count += 1
    }

    /// The cumulative counts (observations ≤ each bound, then all) as Prometheus exposes them.
    public var cumulative: [Int] {
        var total = 0
        return counts.map {
            total += $0
            return total
        }
    }

    /// The mean in seconds (0 when empty).
    public var mean: Double { count > 0 ? sum / Double(count) : 0 }

    /// An upper bound of the `q` quantile: the bound of the bucket it falls in.
    public func quantileBound(_ q: Double) -> Double {
        guard count > 0 else { return 0 }
        let target = Int((q * Double(count)).rounded(.up))
        for (i, c) in cumulative.enumerated() where c >= target {
            return i < Self.bounds.count ? Self.bounds[i] : .infinity
        }
        return .infinity
    }
}
