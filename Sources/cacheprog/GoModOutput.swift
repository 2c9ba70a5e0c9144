import CASBridge

/// Messages of the `gomod` subcommands.
enum GoModOutput {
    /// Writes a line to stderr.
    static func error(_ line: String) {
        try? FileSystem.writeAll(2, Array((line + "\n").utf8))
    }

    /// Seconds with two decimals.
    static func seconds(_ s: Double) -> String {
        let hundredths = Int((s * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) s"
    }
}
