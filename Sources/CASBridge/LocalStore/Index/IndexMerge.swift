import Glibc

/// The local store's whole index as one stream in ActionID order: the table merged with the
/// journal's records, the newest record of each ActionID winning, with the latest use of any.
///
/// The journal is read in chunks of `chunkRecords`; a journal longer than one chunk (a store
/// from before the table existed, say) is sorted chunk by chunk into run files under `tmp/`,
/// so memory stays bounded by one chunk whatever the journal's length.
struct IndexMerge {
    enum Run {
        case memory([IndexRecord])
        case file(String)
    }

    let table: IndexTable?
    /// Sorted runs of journal records, oldest first.
    let runs: [Run]
    /// Journal records read.
    let journalRecords: Int

    static let chunkRecords = 65_536

    /// Reads the journal at `journalPath` into sorted runs, spilling to `tempDirectory` when
    /// it is longer than one chunk.
    init(table: IndexTable?, journalPath: String, tempDirectory: String, chunkRecords: Int = chunkRecords) throws {
        self.table = table
        var runs: [Run] = []
        var chunks: [[IndexRecord]] = []
        var read = 0
        do {
            let fd = try FileSystem.open(journalPath, O_RDONLY)
            defer { close(fd) }
            var offset: Int64 = 0
            while true {
                let bytes = try FileSystem.pread(
                    fd, count: chunkRecords * IndexRecord.size, at: offset, path: journalPath)
                var latest: [Digest: IndexRecord] = [:]
                let consumed = IndexJournal.decode(bytes) { r in
                    read += 1
                    var merged = r
                    if let previous = latest[r.actionID] { merged.lastUse = max(previous.lastUse, r.lastUse) }
                    latest[r.actionID] = merged
                }
                if !latest.isEmpty { chunks.append(latest.values.sorted { $0.actionID < $1.actionID }) }
                if chunks.count > 1 {
                    for chunk in chunks { runs.append(.file(try IndexMerge.spill(chunk, into: tempDirectory))) }
                    chunks.removeAll()
                }
                offset += Int64(consumed)
                if bytes.count < chunkRecords * IndexRecord.size || consumed == 0 { break }
            }
        } catch {
            IndexMerge.remove(runs)
            throw error
        }
        if let only = chunks.first {
            if runs.isEmpty {
                runs.append(.memory(only))
            } else {
                runs.append(.file(try IndexMerge.spill(only, into: tempDirectory)))
            }
        }
        self.runs = runs
        journalRecords = read
    }

    /// An upper bound on the number of entries.
    var estimatedCount: Int {
        (table?.count ?? 0) + journalRecords
    }

    /// Calls `body` with each entry in ActionID order.
    func scan(_ body: (IndexRecord) throws -> Void) throws {
        var cursors: [any IndexCursor] = []
        if let table { cursors.append(TableCursor(table: table)) }
        for run in runs {
            switch run {
            case .memory(let records): cursors.append(ArrayCursor(records: records))
            case .file(let path): cursors.append(try FileCursor(path: path))
            }
        }
        var heads: [IndexRecord?] = []
        for i in cursors.indices { heads.append(try cursors[i].next()) }
        while true {
            var smallest: Digest? = nil
            for case let head? in heads where smallest.map({ head.actionID < $0 }) ?? true { smallest = head.actionID }
            guard let id = smallest else { return }
            var winner: IndexRecord? = nil
            for i in heads.indices {
                guard let head = heads[i], head.actionID == id else { continue }
                let lastUse = max(winner?.lastUse ?? head.lastUse, head.lastUse)
                winner = head
                winner!.lastUse = lastUse
                heads[i] = try cursors[i].next()
            }
            try body(winner!)
        }
    }

    /// Removes the run files.
    func removeFiles() { IndexMerge.remove(runs) }

    private static func remove(_ runs: [Run]) {
        for case .file(let path) in runs { unlink(path) }
    }

    private static func spill(_ records: [IndexRecord], into directory: String) throws -> String {
        let path = "\(directory)/merge-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        var bytes: [UInt8] = []
        bytes.reserveCapacity(records.count * IndexRecord.size)
        for r in records { r.encode(into: &bytes) }
        try FileSystem.writeFileAtomically(path, bytes)
        return path
    }
}
