extension RunRecord {
    /// The one-line summary printed by `-v`.
    public var summaryLine: String {
        let c = counters
        var line =
            "cacheprog: \(c[.gets]) gets (\(hits) hits, \(c[.misses]) misses), \(c[.puts]) puts"
            + " (\(Self.bytes(c[.putBytes])))"
        if c[.putErrors] > 0 { line += ", \(c[.putErrors]) rejected puts" }
        if c[.corruptBlobs] > 0 { line += ", \(c[.corruptBlobs]) corrupt blobs refused" }
        if let r = remote {
            line +=
                "; remote \(r.backend): \(c[.remoteHits]) hits, \(c[.remoteMisses]) misses,"
                + " \(Self.bytes(c[.bytesDown])) down, \(c[.uploads]) uploads (\(Self.bytes(c[.bytesUp])) up,"
                + " \(c[.uploadsSkipped]) already there, \(c[.uploadsDropped]) dropped), \(c[.remoteErrors]) errors"
            if c[.breakerTrips] > 0 { line += ", breaker opened \(c[.breakerTrips])×" }
            if c[.manifestRecords] > 0 {
                line += ", warm manifest \(c[.manifestRecords]) entries (\(c[.manifestHits]) hits)"
            }
            if c[.segmentReads] > 0 { line += ", \(c[.segmentReads]) segments read" }
            if c[.segmentUploads] > 0 { line += ", \(c[.segmentUploads]) segments written" }
            if c[.untrustedEntries] > 0 { line += ", \(c[.untrustedEntries]) untrusted entries refused" }
            if let z = r.compression, z.compressedBlobs > 0 {
                line += ", zstd \((z.ratio * 10).rounded() / 10)× on \(z.compressedBlobs) blobs"
            }
            if let latency = r.latency {
                let parts = latency.keys.sorted().map { op -> String in
                    let h = latency[op]!
                    return "\(op) \(h.count)× avg \(Self.milliseconds(h.mean))"
                }
                line += " [latency: \(parts.joined(separator: ", "))]"
            }
        }
        line += "; \(Int((elapsedSeconds * 1000).rounded())) ms"
        if let cpuSeconds { line += " (CPU \(Self.milliseconds(cpuSeconds)))" }
        return line
    }

    static func milliseconds(_ seconds: Double) -> String {
        let ms = seconds * 1000
        return ms < 10 ? "\((ms * 10).rounded() / 10) ms" : "\(Int(ms.rounded())) ms"
    }

    static func bytes(_ n: Int64) -> String {
        if n < 1 << 10 { return "\(n) B" }
        if n < 1 << 20 { return "\(n >> 10) KiB" }
        if n < 1 << 30 { return "\((Double(n) / 1_048_576 * 10).rounded() / 10) MiB" }
        return "\((Double(n) / 1_073_741_824 * 10).rounded() / 10) GiB"
    }
}
