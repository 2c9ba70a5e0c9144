extension RunRecord: Codable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        time = try c.decode(String.self, forKey: Key("time"))
        elapsedSeconds = try c.decode(Double.self, forKey: Key("elapsedSeconds"))
        cpuSeconds = try c.decodeIfPresent(Double.self, forKey: Key("cpuSeconds"))
        peakRSSKiB = try c.decodeIfPresent(Int.self, forKey: Key("peakRSSKiB"))
        buildSeconds = try c.decodeIfPresent(Double.self, forKey: Key("buildSeconds")) ?? 0
        counters = RunCounters()
        // Records older than a counter lack its key: zero.
        for counter in RunCounter.all(in: .run) {
            counters[counter] = try c.decodeIfPresent(Int64.self, forKey: Key(counter.declaration.key)) ?? 0
        }
        guard c.contains(Key("remote")) else { return }
        let r = try c.nestedContainer(keyedBy: Key.self, forKey: Key("remote"))
        remote = Remote(
            backend: try r.decode(String.self, forKey: Key("backend")),
            latency: try r.decodeIfPresent([String: LatencyHistogram].self, forKey: Key("latency")),
            compression: try r.decodeIfPresent(CompressionStatistics.self, forKey: Key("compression")))
        for counter in RunCounter.all(in: .remote) {
            counters[counter] = try r.decodeIfPresent(Int64.self, forKey: Key(counter.declaration.key)) ?? 0
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(time, forKey: Key("time"))
        try c.encode(elapsedSeconds, forKey: Key("elapsedSeconds"))
        try c.encodeIfPresent(cpuSeconds, forKey: Key("cpuSeconds"))
        try c.encodeIfPresent(peakRSSKiB, forKey: Key("peakRSSKiB"))
        try c.encode(buildSeconds, forKey: Key("buildSeconds"))
        try c.encode(hits, forKey: Key("hits"))
        for counter in RunCounter.all(in: .run) {
            try c.encode(counters[counter], forKey: Key(counter.declaration.key))
        }
        guard let remote else { return }
        var r = c.nestedContainer(keyedBy: Key.self, forKey: Key("remote"))
        try r.encode(remote.backend, forKey: Key("backend"))
        try r.encodeIfPresent(remote.latency, forKey: Key("latency"))
        try r.encodeIfPresent(remote.compression, forKey: Key("compression"))
        for counter in RunCounter.all(in: .remote) {
            try r.encode(counters[counter], forKey: Key(counter.declaration.key))
        }
    }
}
