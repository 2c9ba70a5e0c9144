import Glibc

extension LocalStore {
    /// Removes entries and blobs beyond `policy`, least recently used first, and compacts
    /// the index. Entries used in the last hour (by any process) are never removed, nor
    /// are blobs written in the last hour. Blocks while another trim runs.
    public func trim(_ policy: TrimPolicy, now: Timestamp = .now()) throws -> TrimReport {
        while flock(lockFD, LOCK_EX) != 0 {
            guard errno == EINTR else { throw SystemError("flock \(root)/lock", errno: errno) }
        }
        defer { unlock() }
        return try trimLocked(policy, now: now)
    }

    /// Trims with `policy` if no trim ran in the last `interval` nanoseconds and no other
    /// process is trimming now. Returns the report, or nil when nothing was due.
    public func trimIfDue(interval: Int64, policy: TrimPolicy, now: Timestamp = .now()) -> TrimReport? {
        if let st = FileSystem.status(trimMarkerPath),
            now.nanoseconds - (Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)) < interval
        {
            return nil
        }
        guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else { return nil }
        defer { unlock() }
        return try? trimLocked(policy, now: now)
    }

    private func trimLocked(_ policy: TrimPolicy, now: Timestamp) throws -> TrimReport {
        // The freshest view of the index, from the file itself.
        var latest: [Digest: IndexRecord] = [:]
        let bytes = (try? FileSystem.readFile(indexPath)) ?? []
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset + IndexRecord.size <= raw.count {
                if let r = IndexRecord.decode(UnsafeRawBufferPointer(rebasing: raw[offset...])) {
                    let previousUse = latest[r.actionID]?.lastUse ?? r.lastUse
                    var merged = r
                    merged.lastUse = max(previousUse, r.lastUse)
                    latest[r.actionID] = merged
                    offset += IndexRecord.size
                } else {
                    offset += 1
                }
            }
        }
        var report = TrimReport()
        report.entriesBefore = latest.count

        // Blobs on disk.
        struct BlobFile {
            var path: String
            var size: Int64
            var modified: Int64
        }
        var blobs: [Digest: BlobFile] = [:]
        for shard in FileSystem.list(blobRoot) {
            for name in FileSystem.list("\(blobRoot)/\(shard)") {
                let path = "\(blobRoot)/\(shard)/\(name)"
                guard let st = FileSystem.status(path) else { continue }
                let modified = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
                if let d = Digest(hex: name) {
                    blobs[d] = BlobFile(path: path, size: Int64(st.st_size), modified: modified)
                } else if now.nanoseconds - modified > LocalStore.protectionWindow {
                    unlink(path)
                }
            }
        }

        func protected(_ use: Timestamp) -> Bool { now.nanoseconds - use.nanoseconds < LocalStore.protectionWindow }

        // Entries to keep: not too old, and pointing at a blob that exists.
        var kept = latest.filter { _, r in
            guard blobs[r.entry.outputID] != nil else { return false }
            if protected(r.lastUse) { return true }
            if let maxAge = policy.maxAge, now.nanoseconds - r.lastUse.nanoseconds > maxAge { return false }
            return true
        }
        var references: [Digest: Int] = [:]
        for r in kept.values { references[r.entry.outputID, default: 0] += 1 }
        var keptBytes = references.keys.reduce(Int64(0)) { $0 + (blobs[$1]?.size ?? 0) }
        if let maxSize = policy.maxSize, keptBytes > maxSize {
            for r in kept.values.sorted(by: { $0.lastUse < $1.lastUse }) {
                guard keptBytes > maxSize else { break }
                if protected(r.lastUse) { continue }
                kept[r.actionID] = nil
                references[r.entry.outputID]! -= 1
                if references[r.entry.outputID] == 0 {
                    references[r.entry.outputID] = nil
                    keptBytes -= blobs[r.entry.outputID]?.size ?? 0
                }
            }
        }

        // Write the compacted index first, then remove what it no longer names.
        var out: [UInt8] = []
        out.reserveCapacity(kept.count * IndexRecord.size)
        for r in kept.values.sorted(by: { $0.lastUse < $1.lastUse }) { r.encode(into: &out) }
        try FileSystem.writeFileAtomically(indexPath, out)
        for (digest, blob) in blobs where references[digest] == nil {
            if now.nanoseconds - blob.modified < LocalStore.protectionWindow {
                continue  // A fresh blob whose entry may still be on its way.
            }
            if unlink(blob.path) == 0 {
                report.blobsRemoved += 1
                report.bytesRemoved += blob.size
            }
        }
        for name in FileSystem.list(tempRoot) {
            let path = "\(tempRoot)/\(name)"
            if let st = FileSystem.status(path), now.seconds - Int64(st.st_mtim.tv_sec) > 86_400 { unlink(path) }
        }
        report.entriesAfter = kept.count
        report.bytesAfter = keptBytes
        if let fd = try? FileSystem.open(trimMarkerPath, O_WRONLY | O_CREAT | O_TRUNC) { close(fd) }
        state.withLock { st in LocalStore.refresh(&st, indexPath: indexPath) }
        return report
    }
}
