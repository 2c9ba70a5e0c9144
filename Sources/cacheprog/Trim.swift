import ArgumentParser
import CASBridge

/// `cacheprog trim`: bound the local store.
struct Trim: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove least recently used entries and blobs beyond a size or age.",
        discussion: "Entries used in the last hour, by any process, are never removed.")

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: ArgumentHelp("Keep at most this many bytes of blobs, e.g. 5GiB.", valueName: "size"))
    var maxSize: String?

    @Option(name: .long, help: ArgumentHelp("Remove entries unused for this long, e.g. 7d.", valueName: "duration"))
    var maxAge: String?

    func validate() throws {
        if maxSize == nil && maxAge == nil {
            throw ValidationError("give --max-size, --max-age or both")
        }
    }

    func run() throws {
        let policy = TrimPolicy(
            maxSize: try maxSize.map { try Parsing.size($0, what: "--max-size") },
            maxAge: try maxAge.map { try Parsing.duration($0, what: "--max-age") })
        let local = try store.openStore()
        let report = try local.trim(policy)
        print(
            "trimmed \(local.directory): \(report.entriesBefore) → \(report.entriesAfter) entries, removed \(report.blobsRemoved) blobs (\(report.bytesRemoved) bytes), \(report.bytesAfter) bytes kept"
        )
    }
}
