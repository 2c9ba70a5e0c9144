import ArgumentParser
import CASBridge
import FoundationEssentials

/// `cacheprog stats`: the store's size and the hit rate of recent runs.
struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the store's size, entries, and hit and miss counts of recent runs.")

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: "How many recent runs to sum up.")
    var runs = 100

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    struct Report: Codable {
        var directory: String
        var entries: Int
        var blobs: Int
        var bytes: Int64
        var runs: Int
        var gets: Int64
        var hits: Int64
        var misses: Int64
        var puts: Int64
        var putBytes: Int64
        var lastRun: RunRecord?
    }

    func run() throws {
        let local = try store.openStore()
        let summary = local.summary()
        let recent = local.recentRuns(limit: runs)
        let report = Report(
            directory: local.directory, entries: summary.entries, blobs: summary.blobs, bytes: summary.bytes,
            runs: recent.count, gets: recent.reduce(0) { $0 + $1[.gets] }, hits: recent.reduce(0) { $0 + $1.hits },
            misses: recent.reduce(0) { $0 + $1[.misses] }, puts: recent.reduce(0) { $0 + $1[.puts] },
            putBytes: recent.reduce(0) { $0 + $1[.putBytes] }, lastRun: recent.last)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        let rate = report.gets > 0 ? Int((Double(report.hits) / Double(report.gets) * 100).rounded()) : 0
        print("store:   \(report.directory)")
        print("size:    \(report.bytes) bytes in \(report.blobs) blobs, \(report.entries) entries")
        print(
            "recent:  \(report.runs) runs, \(report.gets) gets, \(report.hits) hits, \(report.misses) misses (\(rate)% hits), \(report.puts) puts"
        )
        if let last = report.lastRun { print("last:    \(last.time) \(last.summaryLine)") }
    }
}
