import Glibc

extension LocalStore {
    /// Removes entries and blobs beyond `policy`, least recently used first, and compacts
    /// the index. Entries used in the last hour (by any process) are never removed, nor
    /// are blobs written in the last hour. Blocks while another trim runs.
    ///
    /// The index is streamed, never loaded: entries are split by blob directory into
    /// temporary files, and each directory is decided with only its own entries in memory.
    /// A size cap needs one more number per live blob (its last use and size).
    public func trim(_ policy: TrimPolicy, now: Timestamp = .now()) throws -> TrimReport {
        try lockExclusive()
        defer { unlock() }
        return try trimLocked(policy, now: now)
    }

    /// Trims with `policy` if no trim ran in the last `interval` and no other
    /// process is trimming now. Returns the report, or nil when nothing was due.
    public func trimIfDue(interval: Duration, policy: TrimPolicy, now: Timestamp = .now()) -> TrimReport? {
        if let st = FileSystem.status(trimMarkerPath), now - Self.modified(st) < interval {
            return nil
        }
        guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else { return nil }
        defer { unlock() }
        return try? trimLocked(policy, now: now)
    }

    /// A blob file found by a trim.
    private struct BlobFile {
        var size: Int64
        var modified: Timestamp
    }

    private func trimLocked(_ policy: TrimPolicy, now: Timestamp) throws -> TrimReport {
        // Last uses arrive as the index's nanoseconds, a million of them at a time: compared as such.
        let protectedSince = (now - LocalStore.protectionWindow).nanoseconds
        let agedBefore = policy.maxAge.map { (now - $0).nanoseconds }
        func isProtected(_ use: Int64) -> Bool { use > protectedSince }
        func isAged(_ use: Int64) -> Bool { agedBefore.map { !isProtected(use) && use < $0 } ?? false }
        return try withIndexMerge { merge in
            var report = TrimReport()
            var partition = TrimPartition(directory: tempRoot)
            defer { partition.remove() }
            var total = 0
            try merge.scan { r in
                try partition.add(r, ordinal: total)
                total += 1
            }
            try partition.finishWriting()
            report.entriesBefore = total
            var dropped = EntryBitmap(count: total)
            // Live blobs outside the protection window: when each was last used, and its size.
            var ledger: [(use: Int64, size: Int64)] = []
            var protectedBytes: Int64 = 0
            for shard in 0..<256 {
                let blobs = scanShard(shard, now: now)
                var referenced = Set<Digest>()
                for group in try partition.read(shard).byBlob {
                    guard let blob = blobs[group.first!.outputID] else {
                        for e in group { dropped.insert(e.ordinal) }
                        continue
                    }
                    var use: Int64? = nil
                    for e in group {
                        if isAged(e.lastUse) {
                            dropped.insert(e.ordinal)
                        } else {
                            use = max(use ?? e.lastUse, e.lastUse)
                        }
                    }
                    guard let use else { continue }
                    referenced.insert(group.first!.outputID)
                    if isProtected(use) { protectedBytes += blob.size } else { ledger.append((use, blob.size)) }
                }
                for (digest, blob) in blobs where !referenced.contains(digest) {
                    removeBlob(digest, blob, now: now, report: &report)
                }
            }
            // A size cap evicts whole blobs, least recently used first, with all their entries.
            var cutoff: Int64? = nil
            var keptBytes = ledger.reduce(protectedBytes) { $0 + $1.size }
            if let maxSize = policy.maxSize, keptBytes > maxSize {
                ledger.sort { $0.use > $1.use }
                keptBytes = protectedBytes
                for b in ledger {
                    if keptBytes + b.size > maxSize {
                        cutoff = b.use
                        break
                    }
                    keptBytes += b.size
                }
            }
            ledger = []
            if let cutoff {
                for shard in 0..<256 {
                    for group in try partition.read(shard).byBlob {
                        let live = group.filter { !dropped.contains($0.ordinal) }
                        guard let use = live.map(\.lastUse).max(), !isProtected(use), use <= cutoff else { continue }
                        for e in live { dropped.insert(e.ordinal) }
                        let digest = group.first!.outputID
                        if let st = FileSystem.status(blobPath(digest)) {
                            let blob = BlobFile(size: Int64(st.st_size), modified: Self.modified(st))
                            removeBlob(digest, blob, now: now, report: &report)
                        }
                    }
                }
            }
            report.entriesAfter = try installTable(from: merge) { ordinal, _ in !dropped.contains(ordinal) }
            report.bytesAfter = keptBytes
            for path in staleScratchFiles(now: now) { unlink(path) }
            if let fd = try? FileSystem.open(trimMarkerPath, O_WRONLY | O_CREAT | O_TRUNC) { close(fd) }
            return report
        }
    }

    /// The blobs of directory `shard`; removes leftovers there (unfinished temporary files)
    /// older than the protection window.
    private func scanShard(_ shard: Int, now: Timestamp) -> [Digest: BlobFile] {
        let directory = "\(blobRoot)/\(Self.shardName(shard))"
        var blobs: [Digest: BlobFile] = [:]
        for name in FileSystem.list(directory) {
            let path = "\(directory)/\(name)"
            guard let st = FileSystem.status(path) else { continue }
            let modified = Self.modified(st)
            if let d = Digest(hex: name) {
                blobs[d] = BlobFile(size: Int64(st.st_size), modified: modified)
            } else if now - modified > LocalStore.protectionWindow {
                unlink(path)
            }
        }
        return blobs
    }

    /// Removes a blob no kept entry names, unless it is younger than the protection window
    /// (its entry may still be on its way).
    private func removeBlob(_ digest: Digest, _ blob: BlobFile, now: Timestamp, report: inout TrimReport) {
        guard now - blob.modified >= LocalStore.protectionWindow else { return }
        if unlink(blobPath(digest)) == 0 {
            report.blobsRemoved += 1
            report.bytesRemoved += blob.size
        }
    }

    static func shardName(_ shard: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[shard >> 4], digits[shard & 15]])
    }

    /// Scratch files in `tmp/` (of puts, merges and trims) older than this were left behind
    /// by a crash.
    static let scratchWindow = Duration.seconds(24 * 60 * 60)

    /// The scratch files in `tmp/` older than `scratchWindow`.
    func staleScratchFiles(now: Timestamp) -> [String] {
        FileSystem.list(tempRoot).map { "\(tempRoot)/\($0)" }.filter { path in
            guard let st = FileSystem.status(path) else { return false }
            return now - Self.modified(st) > Self.scratchWindow
        }
    }

    /// A file's modification time.
    static func modified(_ st: stat) -> Timestamp {
        Timestamp(nanoseconds: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
    }
}
