import Glibc

/// The warm manifest: which entries the last runs used, so that a run with an empty local
/// store downloads their blobs ahead of the go command's requests, many at once, instead of
/// two round trips per request while the go command waits.
extension RemoteTier {
    struct WarmState: ~Copyable {
        var local: LocalStore?
        /// Loads the manifest; its value maps ActionIDs to entries (empty without one).
        var loading: Task<[Digest: ActionEntry], Never>?
        var loaded: WarmManifest?
        var loadFinished = false
        var prefetcher: Task<Void, Never>?
        var segmentReads: [Task<Void, Never>] = []
        var downloads: [Digest: Task<Bool, Never>] = [:]
        var used: [WarmManifest.Record] = []
        var usedIDs = Set<Digest>()
        var stopped = false
    }

    /// Starts loading the warm manifest and prefetching its blobs into `local`, once: on the
    /// first local miss, so runs served entirely from the local store never ask for it.
    public func startWarming(into local: LocalStore) {
        guard let name = manifestName else { return }
        let id = WarmManifest.actionID(named: name)
        warm.withLock { w in
            guard w.loading == nil else { return }
            w.local = local
            w.loading = Task.detached { [self] in
                let manifest = await self.loadManifest(id, name: name, into: local)
                var byAction: [Digest: ActionEntry] = [:]
                for r in manifest?.records ?? [] { byAction[r.actionID] = r.entry }
                warm.withLock { w in
                    w.loaded = manifest
                    w.loadFinished = true
                    if let manifest, !w.stopped {
                        startSegmentReads(manifest, into: local, &w)
                        w.prefetcher = Task.detached { [self] in await self.prefetch(manifest, into: local) }
                    }
                }
                if let manifest {
                    statistics.update { $0.manifestRecords = manifest.records.count }
                }
                return byAction
            }
        }
    }

    private func loadManifest(_ id: Digest, name: String, into local: LocalStore) async -> WarmManifest? {
        guard let found = await guarded("get manifest \(name)", { try await store.entry(for: id) }),
            let entry = found
        else { return nil }
        let limit = Int64(WarmManifest.maxEncodedSize)
        guard entry.size <= limit, await blobDownload(entry, into: local).value else { return nil }
        do {
            return try WarmManifest(decoding: FileSystem.readFile(local.blobPath(entry.outputID)))
        } catch {
            logger.warning("remote \(store.name): ignoring warm manifest \(name): \(error)")
            return nil
        }
    }

    private func prefetch(_ manifest: WarmManifest, into local: LocalStore) async {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for record in manifest.records where record.placement == nil {
                // A failing remote ends the prefetch (without taking the breaker's half-open probe).
                if Task.isCancelled || breaker.position != .closed { break }
                if running >= prefetchConcurrency {
                    await group.next()
                    running -= 1
                }
                let download = blobDownload(record.entry, into: local)
                group.addTask {
                    _ = await download.value
                }
                running += 1
            }
        }
    }

    /// Starts reading the manifest's segments, `prefetchConcurrency / 4` at a time in their
    /// order, and registers each packed output's download as waiting for its segment (then
    /// reading the output on its own if the segment did not deliver it). Runs under the
    /// `warm` lock before any get sees the manifest, so no get starts a second download.
    private func startSegmentReads(_ manifest: WarmManifest, into local: LocalStore, _ w: inout WarmState) {
        var pieces = [[SegmentSplitter.Piece]](repeating: [], count: manifest.segments.count)
        var seen = Set<Digest>()
        for r in manifest.records {
            guard let p = r.placement, w.downloads[r.entry.outputID] == nil,
                seen.insert(r.entry.outputID).inserted, !local.hasBlob(r.entry.outputID)
            else { continue }
            pieces[p.segment].append(SegmentSplitter.Piece(offset: p.offset, entry: r.entry))
        }
        let inFlight = max(1, prefetchConcurrency / 4)
        var reads: [Task<Void, Never>] = []
        for (i, segment) in manifest.segments.enumerated() where !pieces[i].isEmpty {
            let previous = reads.count >= inFlight ? reads[reads.count - inFlight] : nil
            let wanted = pieces[i]
            let read = Task.detached { [self] in
                await previous?.value
                await self.readSegment(segment, pieces: wanted, into: local)
            }
            reads.append(read)
            for piece in wanted {
                let entry = piece.entry
                w.downloads[entry.outputID] = Task.detached { [self] in
                    await read.value
                    if local.hasBlob(entry.outputID) { return true }
                    let present = await self.download(entry, into: local)
                    if !present { warm.withLock { _ = $0.downloads.removeValue(forKey: entry.outputID) } }
                    return present
                }
            }
        }
        w.segmentReads = reads
    }

    private func readSegment(
        _ segment: WarmManifest.Segment, pieces: [SegmentSplitter.Piece], into local: LocalStore
    ) async {
        let needed = pieces.filter { !local.hasBlob($0.entry.outputID) }
        guard !needed.isEmpty, !Task.isCancelled, breaker.position == .closed else { return }
        let splitter = SegmentSplitter(pieces: needed, local: local)
        let found = await guarded("read segment \(segment.digest)") {
            try await store.readBlob(segment.digest, size: segment.size, to: splitter)
        }
        splitter.finish()
        statistics.update {
            if found == true { $0.segmentReads += 1 }
            $0.bytesDown += splitter.publishedBytes
            $0.corruptBlobs += splitter.corrupt.count
        }
        if let first = splitter.corrupt.first {
            logger.warning(
                "remote \(store.name): segment \(segment.digest) held \(splitter.corrupt.count) damaged outputs (first \(first)); reading them on their own"
            )
        }
    }

    /// The manifest's entry for `actionID`, once the manifest has loaded.
    func manifestEntry(for actionID: Digest) async -> ActionEntry? {
        guard let loading = warm.withLock({ $0.loading }) else { return nil }
        return await loading.value[actionID]
    }

    /// Notes that the go command used `entry` for `actionID` (a hit or a put), for the
    /// manifest this run writes.
    public func noteUse(_ actionID: Digest, _ entry: ActionEntry) {
        guard mode == .readwrite, manifestName != nil else { return }
        warm.withLock { w in
            if w.used.count < WarmManifest.maxRecords, w.usedIDs.insert(actionID).inserted {
                w.used.append(WarmManifest.Record(actionID: actionID, entry: entry))
            }
        }
    }

    func stopPrefetching() {
        let tasks: [Task<Bool, Never>] = warm.withLock { w in
            w.stopped = true
            w.prefetcher?.cancel()
            for read in w.segmentReads { read.cancel() }
            return Array(w.downloads.values)
        }
        for t in tasks { t.cancel() }
    }

    /// Queues the writing of this run's manifest (see `WarmManifest.plan`), unless the
    /// loaded one already starts with exactly the entries this run used (order within them
    /// aside) and needs no new segment. Nothing is written when the old manifest did not
    /// finish loading: a partial view must not replace it.
    func enqueueManifest(segmentDeadline: ContinuousClock.Instant) {
        guard mode == .readwrite, let name = manifestName else { return }
        let (plan, local): (WarmManifest.Plan?, LocalStore?) = warm.withLock { w in
            guard w.loadFinished, !w.used.isEmpty else { return (nil, nil) }
            let plan = WarmManifest.plan(used: w.used, older: w.loaded)
            if let loaded = w.loaded, RemoteTier.leads(loaded, with: w.used), plan.pending.isEmpty,
                plan.manifest.segments.count == loaded.segments.count
            {
                return (nil, nil)
            }
            return (plan, w.local)
        }
        guard let plan, let local else { return }
        enqueue(
            Upload(
                actionID: WarmManifest.actionID(named: name), manifest: plan, local: local,
                segmentDeadline: segmentDeadline))
    }

    /// Writes the plan's new segments, then the manifest itself. Segments that fail, or are
    /// not stored by `segmentDeadline` (half of close's budget: a slow link must not cost
    /// the manifest), are left out of it.
    func writeManifest(
        _ plan: WarmManifest.Plan, actionID: Digest, local: LocalStore, segmentDeadline: ContinuousClock.Instant
    ) async {
        var manifest = plan.manifest
        let written = await withTaskGroup(of: (Int, WarmManifest.Segment?)?.self) { group in
            group.addTask {
                try? await Task.sleep(until: segmentDeadline)
                return nil
            }
            var written: [Int: WarmManifest.Segment] = [:]
            var queue = plan.pending[...]
            var running = 0
            while true {
                while running < maxConcurrentUploads, let pending = queue.popFirst() {
                    group.addTask { [self] in (pending.index, await self.writeSegment(pending.pieces, local: local)) }
                    running += 1
                }
                guard running > 0, let result = await group.next() else { break }
                guard let (i, segment) = result else { break }  // the deadline passed
                written[i] = segment
                running -= 1
            }
            group.cancelAll()
            return written
        }
        var failed = Set<Int>()
        for pending in plan.pending {
            if let segment = written[pending.index] ?? nil {
                manifest.segments[pending.index] = segment
            } else {
                failed.insert(pending.index)
            }
        }
        manifest = manifest.removingSegments(failed)
        if Task.isCancelled { return }
        let bytes = manifest.encoded()
        do {
            let time = Timestamp.now()
            let (digest, path) = try local.publish(bytes: bytes, time: time)
            let entry = ActionEntry(outputID: digest, size: Int64(bytes.count), time: time)
            await upload(Upload(actionID: actionID, entry: entry, path: path))
        } catch {
            logger.warning("cannot write the warm manifest: \(error)")
        }
    }

    /// Concatenates `pieces` from the local store into a temporary file and stores it in
    /// the remote unless it holds it already; nil if that failed.
    private func writeSegment(_ pieces: [ActionEntry], local: LocalStore) async -> WarmManifest.Segment? {
        if Task.isCancelled { return nil }
        let temp: LocalStore.TempFile
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            temp = try local.makeTempFile()
        } catch {
            return nil
        }
        defer { unlink(temp.path) }
        do {
            defer { close(temp.fd) }
            for piece in pieces {
                try FileSystem.stream(local.blobPath(piece.outputID)) { bytes in
                    try FileSystem.writeAll(temp.fd, bytes, path: temp.path)
                    hasher.update(bytes)
                    size += Int64(bytes.count)
                }
            }
        } catch {
            logger.debug("cannot pack a segment of \(pieces.count) outputs: \(error)")
            return nil
        }
        guard size == pieces.reduce(0, { $0 + $1.size }) else { return nil }
        let segment = WarmManifest.Segment(digest: hasher.finalize(), size: size)
        let stored = await guarded("write segment \(segment.digest)") { () async throws -> Bool in
            let missing = try await store.missingBlobs(sized: [(segment.digest, size)])
            if missing.contains(segment.digest) {
                try await store.writeBlob(segment.digest, size: size, from: temp.path)
                statistics.update {
                    $0.segmentUploads += 1
                    $0.bytesUp += size
                }
            }
            return true
        }
        return stored == true ? segment : nil
    }

    /// Whether `manifest`'s first records are exactly `used` (as a set, with equal entries).
    static func leads(_ manifest: WarmManifest, with used: [WarmManifest.Record]) -> Bool {
        guard manifest.records.count >= used.count else { return false }
        var lead: [Digest: ActionEntry] = [:]
        for r in manifest.records.prefix(used.count) { lead[r.actionID] = r.entry }
        return used.allSatisfy { lead[$0.actionID] == $0.entry }
    }
}
