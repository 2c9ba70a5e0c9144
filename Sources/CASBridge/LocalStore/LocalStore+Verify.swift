import Glibc

extension LocalStore {
    /// Checks the whole store: re-hashes every blob (its SHA-256 must be its name), checks
    /// that every index record's blob exists with the recorded size, and counts temporary
    /// files in blob directories older than `protectionWindow` (younger ones may belong to a
    /// running helper) and scratch files in `tmp/` older than a day (as a trim does). With `repair`, removes damaged blobs and stale temporary files and
    /// drops the records whose blob is missing, damaged or of the wrong size.
    ///
    /// Safe while helpers run: hashing takes no lock (published blobs are never rewritten),
    /// the record scan holds the shared lock (so no trim removes blobs under it), and only the
    /// repair takes the exclusive lock, re-checks what it removes and rewrites the index the
    /// way a compaction does. Memory stays bounded by the damage found, not the store's size.
    public func verify(repair: Bool, now: Timestamp = .now()) throws -> VerifyReport {
        guard FileSystem.status(blobRoot) != nil else {
            throw CASError(.io, "\(root) is not a local store (no blobs directory)")
        }
        var report = VerifyReport()
        report.repaired = repair
        var damaged = Set<Digest>()
        var stale: [String] = []
        for shard in 0..<256 {
            let directory = "\(blobRoot)/\(Self.shardName(shard))"
            for name in FileSystem.list(directory) {
                let path = "\(directory)/\(name)"
                guard let st = FileSystem.status(path), st.st_mode & S_IFMT == S_IFREG else { continue }
                guard let digest = Digest(hex: name) else {
                    if now - Self.modified(st) > LocalStore.protectionWindow {
                        report.staleTempFiles += 1
                        stale.append(path)
                    }
                    continue
                }
                // A blob removed since the listing (by a trim or a lookup's quarantine) is skipped.
                guard let (actual, size) = try? FileSystem.hashFile(path) else { continue }
                report.blobsChecked += 1
                report.bytesHashed += size
                if actual != digest {
                    report.damagedBlobs += 1
                    damaged.insert(digest)
                    if report.damagedPaths.count < VerifyReport.listLimit { report.damagedPaths.append(path) }
                }
            }
        }
        // Scratch files of puts, merges and trims, by the rule a trim removes them with.
        let scratch = staleScratchFiles(now: now)
        report.staleTempFiles += scratch.count
        stale += scratch
        var suspects = Set<Digest>()
        lockShared()
        do {
            defer { unlock() }
            try withIndexMerge { merge in
                try merge.scan { r in
                    report.recordsChecked += 1
                    switch recordProblem(r, damaged: damaged) {
                    case .none: return
                    case .missing: report.recordsMissingBlob += 1
                    case .damaged: report.recordsDamagedBlob += 1
                    case .wrongSize: report.recordsWrongSize += 1
                    }
                    suspects.insert(r.actionID)
                }
            }
        }
        if repair, report.foundDamage {
            try repairLocked(damaged: damaged, stale: stale, suspects: suspects, now: now, report: &report)
        }
        return report
    }

    /// Why a record's blob is unusable.
    private enum RecordProblem {
        case missing
        case damaged
        case wrongSize
    }

    private func recordProblem(_ r: IndexRecord, damaged: Set<Digest>) -> RecordProblem? {
        guard let st = FileSystem.status(blobPath(r.entry.outputID)) else { return .missing }
        if damaged.contains(r.entry.outputID) { return .damaged }
        return Int64(st.st_size) == r.entry.size ? nil : .wrongSize
    }

    /// Removes what `verify` found, under the exclusive lock, re-checking each removal: a
    /// damaged blob is re-hashed (a helper may have put an intact copy since), a temporary
    /// file must still be stale, a record's blob must still be unusable.
    private func repairLocked(
        damaged: Set<Digest>, stale: [String], suspects: Set<Digest>, now: Timestamp, report: inout VerifyReport
    ) throws {
        try lockExclusive()
        defer { unlock() }
        var removed = Set<Digest>()
        for digest in damaged {
            let path = blobPath(digest)
            if let (actual, _) = try? FileSystem.hashFile(path), actual == digest { continue }
            if unlink(path) == 0 {
                report.blobsRemoved += 1
                removed.insert(digest)
            }
        }
        for path in stale {
            let age = path.hasPrefix("\(tempRoot)/") ? LocalStore.scratchWindow : LocalStore.protectionWindow
            guard let st = FileSystem.status(path), now - Self.modified(st) > age else { continue }
            if unlink(path) == 0 { report.tempFilesRemoved += 1 }
        }
        guard !suspects.isEmpty else { return }
        var dropped = 0
        _ = try rewriteIndexLocked { _, r in
            guard suspects.contains(r.actionID), recordProblem(r, damaged: removed) != nil else { return true }
            dropped += 1
            return false
        }
        report.recordsDropped = dropped
    }
}
