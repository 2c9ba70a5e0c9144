extension Duration {
    /// The duration in seconds, for reports (JSON, Prometheus, histograms) that count time in seconds.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The duration in whole nanoseconds, saturating at Int64's range (about 292 years).
    public var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let limit = Int64.max / 1_000_000_000
        if seconds >= limit { return .max }
        if seconds <= -limit { return .min }
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// The duration of `seconds` (a reported or configured value), saturating at the representable range.
    public init(seconds: Double) {
        guard seconds.isFinite else {
            self = seconds > 0 ? .seconds(Int64.max) : .zero
            return
        }
        let whole = seconds.rounded(.down)
        let clamped = max(min(whole, Double(Int64.max / 2)), Double(Int64.min / 2))
        self = .seconds(Int64(clamped)) + .nanoseconds(Int64(((seconds - whole) * 1e9).rounded()))
    }
}
