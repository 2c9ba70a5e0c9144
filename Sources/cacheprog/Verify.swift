import ArgumentParser
import CASBridge
import FoundationEssentials
import Glibc

/// `cacheprog verify`: check every blob and index record of the local store, optionally
/// removing what is damaged. Exit status 0 when clean, 1 when damage was found (repaired or
/// not), 2 when the store cannot be checked.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-hash every blob, check every index record's blob, find stale temporary files.",
        discussion: """
            Exits 0 when nothing is damaged, 1 when something is (also after --repair), 2 when the store \
            cannot be checked. Safe while helpers run.
            """)

    @OptionGroup var store: StoreOptions

    @Flag(name: .long, help: "Remove damaged blobs and stale temporary files, and drop the records naming them.")
    var repair = false

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        let report: VerifyReport
        let directory: String
        do {
            directory = FileSystem.absolute(store.directory)
            // Unlike the other subcommands, verify never creates a store: a wrong --dir is an error.
            guard FileSystem.status("\(directory)/v1/blobs") != nil else {
                throw CommandError("no local store at \(directory) (no v1/blobs directory)")
            }
            report = try store.openStore().verify(repair: repair)
        } catch {
            let line = "Error: \(error)\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
            throw ExitCode(2)
        }
        if json {
            struct Output: Encodable {
                var directory: String
                var clean: Bool
                var report: VerifyReport
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let output = Output(directory: directory, clean: !report.foundDamage, report: report)
            print(String(decoding: try encoder.encode(output), as: UTF8.self))
        } else {
            print(Verify.text(report, directory: directory), terminator: "")
        }
        if report.foundDamage { throw ExitCode(1) }
    }

    /// The human-readable report.
    static func text(_ r: VerifyReport, directory: String) -> String {
        var s = "store:    \(directory)\n"
        s += "blobs:    \(r.blobsChecked) hashed (\(r.bytesHashed) bytes), \(r.damagedBlobs) damaged\n"
        s += "records:  \(r.recordsChecked) checked, \(r.recordsMissingBlob) with a missing blob, "
        s += "\(r.recordsDamagedBlob) with a damaged blob, \(r.recordsWrongSize) with a wrong size\n"
        s += "index:    \(r.damagedIndexRecords) damaged records"
        s += r.damagedTable ? ", the table's header, size or fan-out damaged\n" : "\n"
        s += "temp:     \(r.staleTempFiles) stale temporary files "
        s += "(in blob directories over an hour old, in tmp/ over a day)\n"
        s += "gomod:    trees are not walked; their blobs are hashed above, their roots' records checked\n"
        for path in r.damagedPaths { s += "damaged:  \(path)\n" }
        if r.repaired {
            s += "repaired: removed \(r.blobsRemoved) blobs and \(r.tempFilesRemoved) temporary files, "
            s += "dropped \(r.recordsDropped) records"
            s += r.indexRewritten ? " (index rewritten without its damaged records)\n" : "\n"
        }
        if !r.foundDamage {
            s += "result:   clean\n"
        } else {
            s += r.repaired ? "result:   damage found, repaired as above\n" : "result:   damage found\n"
        }
        return s
    }
}
