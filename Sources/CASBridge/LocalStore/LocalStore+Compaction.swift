import Glibc

extension LocalStore {
    /// Whether the journal has passed `journalLimit` records.
    var isCompactionDue: Bool {
        guard let st = FileSystem.status(indexPath) else { return false }
        return Int(st.st_size) > journalLimit * IndexRecord.size
    }

    /// Folds the journal into the table if it has passed `journalLimit` records and no other
    /// process is compacting or trimming now. Returns whether it did.
    @discardableResult
    public func compactIfDue() -> Bool {
        guard isCompactionDue, flock(lockFD, LOCK_EX | LOCK_NB) == 0 else { return false }
        defer { unlock() }
        guard isCompactionDue else { return false }
        return (try? rewriteIndexLocked { _, _ in true }) != nil
    }

    /// Folds the journal into the table now, waiting for a trim or compaction that runs. Returns
    /// the number of entries.
    @discardableResult
    public func compact() throws -> Int {
        try lockExclusive()
        defer { unlock() }
        return try rewriteIndexLocked { _, _ in true }
    }

    func lockExclusive() throws {
        while flock(lockFD, LOCK_EX) != 0 {
            guard errno == EINTR else { throw SystemError("flock \(root)/lock", errno: errno) }
        }
    }

    /// Reads the whole index (the caller holds the exclusive lock) and hands it to `body`.
    func withIndexMerge<R>(_ body: (IndexMerge) throws -> R) throws -> R {
        let merge = try IndexMerge(
            table: IndexTable.open(tablePath), journalPath: indexPath, tempDirectory: tempRoot)
        defer { merge.removeFiles() }
        return try body(merge)
    }

    /// Writes a new table of the entries `keep` accepts (given each entry's ordinal in the
    /// merged index), renames it into place, then empties the journal. The caller holds the
    /// exclusive lock. A crash between the two renames leaves the journal's records in both,
    /// which is harmless: they say the same. Returns the number of entries written.
    func rewriteIndexLocked(_ keep: (Int, IndexRecord) -> Bool) throws -> Int {
        try withIndexMerge { merge in try installTable(from: merge, keep: keep) }
    }

    func installTable(from merge: IndexMerge, keep: (Int, IndexRecord) -> Bool) throws -> Int {
        let temp = "\(tablePath).tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        var writer = try IndexTableWriter(path: temp, expectedCount: merge.estimatedCount)
        do {
            var ordinal = 0
            try merge.scan { r in
                if keep(ordinal, r) { try writer.add(r) }
                ordinal += 1
            }
            try writer.finish()
        } catch {
            writer.discard()
            throw CASError(.io, "cannot write the index table \(temp)", cause: error as? SystemError)
        }
        let written = writer.count
        do {
            try FileSystem.rename(temp, tablePath)
            // The journal's records are in the table now: start a new, empty journal.
            try FileSystem.writeFileAtomically(indexPath, [])
        } catch {
            unlink(temp)
            throw CASError(.io, "cannot install the index table at \(tablePath)", cause: error as? SystemError)
        }
        state.withLock { st in refresh(&st) }
        return written
    }
}
