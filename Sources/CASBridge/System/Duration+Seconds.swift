extension Duration {
    /// The duration in seconds, for reports (JSON, Prometheus, histograms) that count time in seconds.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
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
