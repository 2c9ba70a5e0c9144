import Glibc

extension LocalStore {
    /// An entry as this process knows it.
    struct Indexed {
        var entry: ActionEntry
        var lastUse: Timestamp
    }

    /// A blob whose stamp was found unchanged at `at`.
    struct Check {
        var at: ContinuousClock.Instant
        var stamp: BlobStamp
    }

    /// Where a lookup found an entry: the journal, or a slot of the table (whose last use is
    /// updated in place).
    struct Found {
        var entry: ActionEntry
        var lastUse: Timestamp
        var stamp: BlobStamp
        var table: IndexTable?
        var slot: Int
    }

    /// This process's view of the index. Its size is bounded by the journal and by what the
    /// process itself looked at, never by the table.
    struct State: ~Copyable {
        var journalFD: Int32
        var table: IndexTable?
        var readOffset: Int64 = 0
        /// Whether the journal has been read at all (it is read on first use).
        var journalRead = false
        /// The journal's entries, by ActionID.
        var journal: [Digest: Indexed] = [:]
        /// Output IDs in the order the journal's records were read or written: the most recent last.
        var journalOrder: [Digest] = []
        /// The latest stamp of each blob named by a journal record or published by this process.
        var stamps: [Digest: BlobStamp] = [:]
        /// Blobs found unchanged by the background checks or a lookup.
        var checked: [Digest: Check] = [:]
        /// When this process wrote each blob it published. Within
        /// `checkFreshness` of that, the remote tier's hits count and record it without another
        /// look at the file (trimming leaves a blob that young alone).
        var writtenAt: [Digest: ContinuousClock.Instant] = [:]
        var precheck = Precheck()

        init(journalFD: Int32, table: IndexTable?) {
            self.journalFD = journalFD
            self.table = table
        }
    }

    /// Finds `actionID` in the journal, then the table.
    static func find(_ actionID: Digest, in st: borrowing State) -> Found? {
        if let indexed = st.journal[actionID] {
            let output = indexed.entry.outputID
            guard let stamp = st.stamps[output] else { return nil }
            return Found(entry: indexed.entry, lastUse: indexed.lastUse, stamp: stamp, table: nil, slot: -1)
        }
        guard let table = st.table, let (slot, record) = table.find(actionID) else { return nil }
        let stamp = st.stamps[record.entry.outputID] ?? record.stamp
        return Found(entry: record.entry, lastUse: record.lastUse, stamp: stamp, table: table, slot: slot)
    }

    /// The stamp this process last knew blob `digest` by, if any (reading the journal first if
    /// it has not been read).
    func knownStamp(_ digest: Digest) -> BlobStamp? {
        state.withLock { st in
            if !st.journalRead { refresh(&st) }
            return LocalStore.knownStamp(digest, in: st)
        }
    }

    static func knownStamp(_ digest: Digest, in st: borrowing State) -> BlobStamp? {
        st.stamps[digest] ?? st.checked[digest]?.stamp
    }

    static func apply(_ r: IndexRecord, to st: inout State) {
        let previousUse = st.journal[r.actionID]?.lastUse ?? r.lastUse
        st.journal[r.actionID] = Indexed(entry: r.entry, lastUse: max(previousUse, r.lastUse))
        st.stamps[r.entry.outputID] = r.stamp
        st.journalOrder.append(r.entry.outputID)
    }

    /// Whether `time` (nil for never) lies within `checkFreshness` of `now`.
    static func isFresh(_ time: ContinuousClock.Instant?, now: ContinuousClock.Instant) -> Bool {
        time.map { now - $0 < checkFreshness } ?? false
    }

    /// The stamp of blob `digest` if this process wrote it within `checkFreshness` of `now`.
    static func freshlyWritten(_ digest: Digest, in st: borrowing State, now: ContinuousClock.Instant) -> BlobStamp? {
        isFresh(st.writtenAt[digest], now: now) ? st.stamps[digest] : nil
    }

    /// Follows a compaction or trim: opens the new journal, then the new table, and forgets
    /// what came from the old ones.
    func reopen(_ st: inout State) {
        guard let fd = try? FileSystem.open(indexPath, O_RDWR | O_APPEND | O_CREAT) else { return }
        close(st.journalFD)
        st.journalFD = fd
        st.table = IndexTable.open(tablePath)
        st.readOffset = 0
        st.journal.removeAll(keepingCapacity: true)
        st.journalOrder.removeAll(keepingCapacity: true)
        // The old journal's stamps are in the new table now; keep only those of blobs this process wrote.
        let written = st.writtenAt
        st.stamps = st.stamps.filter { written[$0.key] != nil }
        st.precheck.restart()
    }

    /// Reads journal records appended since the last read (by this or other processes), after
    /// following a compaction if one replaced the journal.
    func refresh(_ st: inout State) {
        st.journalRead = true
        var info = stat()
        guard fstat(st.journalFD, &info) == 0 else { return }
        if info.st_nlink == 0 {
            reopen(&st)
            guard fstat(st.journalFD, &info) == 0 else { return }
        }
        let end = Int64(info.st_size)
        guard end > st.readOffset,
            let bytes = try? FileSystem.pread(
                st.journalFD, count: Int(end - st.readOffset), at: st.readOffset, path: indexPath)
        else { return }
        if st.journal.isEmpty {
            st.journal.reserveCapacity(bytes.count / IndexRecord.size)
            st.journalOrder.reserveCapacity(bytes.count / IndexRecord.size)
        }
        let consumed = IndexJournal.decode(bytes) { LocalStore.apply($0, to: &st) }
        st.readOffset += Int64(consumed)
    }

    /// Appends records to the journal (the caller may hold the shared lock already) and
    /// applies them to the in-memory view.
    func append(_ records: [IndexRecord]) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(records.count * IndexRecord.size)
        for r in records { r.encode(into: &bytes) }
        try state.withLock { st in
            var info = stat()
            if fstat(st.journalFD, &info) == 0, info.st_nlink == 0 {
                // The journal was folded into a new table: follow it to the new files.
                reopen(&st)
            }
            try FileSystem.writeAll(st.journalFD, bytes, path: indexPath)
            // Records this process just wrote need not be read back: when they directly follow
            // what was read last, the next refresh starts after them.
            let end = Int64(lseek(st.journalFD, 0, SEEK_CUR))
            if end >= 0, end - Int64(bytes.count) == st.readOffset { st.readOffset = end }
            for r in records { LocalStore.apply(r, to: &st) }
        }
    }
}
