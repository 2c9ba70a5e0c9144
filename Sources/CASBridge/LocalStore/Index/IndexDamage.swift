import Glibc

/// Damage in the index files themselves, as `cacheprog verify` reports it: records that fail
/// their magic or checksum (a bit flip, a torn append, a file cut mid-record after a power
/// loss), and a table whose header, size or fan-out is invalid. Such records are never used
/// (lookups that land on them miss), so the damage costs misses, never wrong hits; a
/// rewrite of the index drops it.
struct IndexDamage {
    /// Invalid records: a torn or garbage stretch of the journal counts as the records it
    /// spans, rounded up.
    var records = 0
    /// Whether a table file is there but unusable as a whole, or its fan-out is wrong.
    var table = false

    /// A journal trailing in an invalid stretch is only called damaged once it has not
    /// changed for this long: an append may be in flight.
    static let settleTime: Int64 = 10 * 1_000_000_000

    /// Checks the journal at `journalPath` and the table at `tablePath`.
    static func check(journalPath: String, tablePath: String, now: Timestamp) throws -> IndexDamage {
        var damage = IndexDamage()
        try damage.checkJournal(journalPath, now: now)
        // The file opened is the one judged, even if a compaction renames a new table in meanwhile.
        if let fd = try? FileSystem.open(tablePath, O_RDONLY) {
            if let table = IndexTable(fd: fd) { damage.checkTable(table) } else { damage.table = true }
        }
        return damage
    }

    private mutating func checkJournal(_ path: String, now: Timestamp) throws {
        let fd: Int32
        do { fd = try FileSystem.open(path, O_RDONLY) } catch { return }
        defer { close(fd) }
        var info = stat()
        let settled =
            fstat(fd, &info) == 0
            && now.nanoseconds - (Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
                > IndexDamage.settleTime
        let chunk = IndexMerge.chunkRecords * IndexRecord.size
        var offset: Int64 = 0
        var skipped = 0
        while true {
            let bytes = try FileSystem.pread(fd, count: chunk, at: offset, path: path)
            var position = 0
            bytes.withUnsafeBytes { raw in
                while position + IndexRecord.size <= raw.count {
                    if IndexRecord.decode(UnsafeRawBufferPointer(rebasing: raw[position...])) != nil {
                        records += IndexDamage.spanned(skipped)
                        skipped = 0
                        position += IndexRecord.size
                    } else {
                        skipped += 1
                        position += 1
                    }
                }
            }
            offset += Int64(position)
            if bytes.count < chunk || position == 0 {
                if settled { records += IndexDamage.spanned(skipped + bytes.count - position) }
                return
            }
        }
    }

    private mutating func checkTable(_ table: IndexTable) {
        let buckets = 1 << table.fanoutBits
        guard let fanout = table.fanout(), fanout.count == buckets else {
            self.table = true
            return
        }
        var previous = 0
        for bound in fanout {
            if bound < previous || bound > table.count { self.table = true }
            previous = bound
        }
        if previous != table.count { self.table = true }
        var slot = 0
        while true {
            let bytes = table.records(from: slot, count: 8192)
            if bytes.isEmpty { return }
            bytes.withUnsafeBytes { raw in
                for base in stride(from: 0, to: raw.count, by: IndexRecord.size) {
                    defer { slot += 1 }
                    let slice = UnsafeRawBufferPointer(rebasing: raw[base..<(base + IndexRecord.size)])
                    guard let r = IndexRecord.decode(slice, as: .table) else {
                        records += 1
                        continue
                    }
                    // A valid record must lie within its bucket's bounds, or lookups cannot find it.
                    let bucket = r.actionID.prefix(bits: table.fanoutBits)
                    let low = bucket == 0 ? 0 : fanout[bucket - 1]
                    if slot < low || slot >= fanout[bucket] { self.table = true }
                }
            }
        }
    }

    /// Records a stretch of `bytes` invalid bytes spans.
    private static func spanned(_ bytes: Int) -> Int {
        (bytes + IndexRecord.size - 1) / IndexRecord.size
    }
}
