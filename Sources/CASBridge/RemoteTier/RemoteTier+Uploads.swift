import Synchronization

/// The upload queue: puts (and, at close, the warm manifest) uploaded in the background,
/// at most `maxConcurrentUploads` at a time, blob before action entry.
extension RemoteTier {
    struct Upload: Sendable {
        var actionID: Digest
        var entry: ActionEntry
        var path: String
        /// Blobs the entry carries (the warm manifest's entry: see `attachments(of:)`).
        var attached: [AttachedBlob] = []
        /// A warm manifest to write (its segments first) instead of a blob.
        var manifest: WarmManifest.Plan?
        var local: LocalStore?
        /// When segments still being written are given up, so the manifest gets written.
        var segmentDeadline = ContinuousClock.now

        init(actionID: Digest, entry: ActionEntry, path: String) {
            self.actionID = actionID
            self.entry = entry
            self.path = path
        }

        init(actionID: Digest, manifest: WarmManifest.Plan, local: LocalStore, segmentDeadline: ContinuousClock.Instant)
        {
            self.actionID = actionID
            self.segmentDeadline = segmentDeadline
            entry = ActionEntry(outputID: .empty, size: 0, time: Timestamp(nanoseconds: 0))
            path = ""
            self.manifest = manifest
            self.local = local
        }
    }

    struct UploadState: ~Copyable {
        var continuation: AsyncStream<Upload>.Continuation?
        var consumer: Task<Void, Never>?
        var pending = 0
    }

    /// Queues an upload of a put in the background (read-write mode only).
    public func enqueueUpload(actionID: Digest, entry: ActionEntry, path: String) {
        enqueue(Upload(actionID: actionID, entry: entry, path: path))
    }

    func enqueue(_ upload: Upload) {
        guard mode == .readwrite else { return }
        let accepted: Bool = uploads.withLock { u in
            guard let c = u.continuation else { return false }
            if case .enqueued = c.yield(upload) {
                u.pending += 1
                return true
            }
            return false
        }
        if !accepted { statistics.update { $0.uploadsDropped += 1 } }
    }

    func runUploads(_ stream: AsyncStream<Upload>) async {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for await upload in stream {
                if running >= maxConcurrentUploads {
                    await group.next()
                    running -= 1
                }
                group.addTask { [self] in
                    await self.upload(upload)
                    self.uploads.withLock { $0.pending -= 1 }
                }
                running += 1
            }
        }
    }

    func upload(_ u: Upload) async {
        // Uploads cancelled by close's deadline are counted by `drain`.
        if Task.isCancelled { return }
        if let plan = u.manifest, let local = u.local {
            await writeManifest(plan, actionID: u.actionID, local: local, segmentDeadline: u.segmentDeadline)
            return
        }
        let ok = await guarded("upload \(u.entry.outputID)") { () async throws -> Bool in
            let missing = try await store.missingBlobs(sized: [(u.entry.outputID, u.entry.size)])
            if missing.contains(u.entry.outputID) {
                try await store.writeBlob(u.entry.outputID, size: u.entry.size, from: u.path)
                statistics.update {
                    $0.uploads += 1
                    $0.bytesUp += u.entry.size
                }
            } else {
                statistics.update { $0.uploadsSkipped += 1 }
            }
            try await store.record(u.entry, for: u.actionID, attaching: u.attached)
            return true
        }
        if ok != true && !Task.isCancelled { statistics.update { $0.uploadsDropped += 1 } }
    }
}
