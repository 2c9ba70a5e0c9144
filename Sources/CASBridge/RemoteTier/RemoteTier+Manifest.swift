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
        /// The loaded manifest's entries by ActionID.
        var byAction: [Digest: ActionEntry] = [:]
        var loadFinished = false
        var prefetcher: Task<Void, Never>?
        var segmentReads: [Task<Void, Never>] = []
        var downloads: [Digest: Task<Bool, Never>] = [:]
        /// The gates of prefetches that wait for their turn, by OutputID.
        var gates: [Digest: PrefetchGate] = [:]
        /// For an output packed in a segment that is being or will be read: the gate its
        /// arrival opens. A get that finds its output there but not yet stored waits on it
        /// (`blobDownload`); outputs that arrive first cost no task.
        var arrivals: [Digest: PrefetchGate] = [:]
        var used: [WarmManifest.Record] = []
        var usedIDs = Set<Digest>()
        var stopped = false
    }

    /// Starts loading the warm manifest and prefetching its blobs into `local`, once: on the
    /// first local miss, so runs served entirely from the local store never ask for it, or
    /// at start-up when the local store is empty.
    public func startWarming(into local: LocalStore) {
        guard let name = manifestName else { return }
        let id = WarmManifest.actionID(named: name)
        warm.withLock { w in
            guard w.loading == nil else { return }
            w.local = local
            w.loading = Task.detached { [self] in
                // Connections for the prefetch open while the manifest is on its way.
                let store = self.store
                Task.detached { await store.openConnections(RemoteTier.prefetchConnections) }
                let (manifest, roundTrip) = await self.loadManifest(id, name: name, into: local)
                let window = self.prefetchWindow(roundTrip: roundTrip)
                var byAction: [Digest: ActionEntry] = [:]
                for r in manifest?.records ?? [] { byAction[r.actionID] = r.entry }
                warm.withLock { w in
                    w.loaded = manifest
                    w.byAction = byAction
                    w.loadFinished = true
                    if let manifest, !w.stopped {
                        let jobs = schedulePrefetch(manifest, into: local, &w)
                        w.prefetcher = Task.detached { [self] in await self.prefetch(jobs, window: window) }
                    }
                }
                if let manifest {
                    statistics.update { $0.manifestRecords = manifest.records.count }
                }
                return byAction
            }
        }
    }

    /// Loads the manifest; also returns the remote's round trip (nanoseconds): how long the
    /// manifest's blob took on a connection already open when it did not come inside its
    /// entry, else half the entry's request. The blobs that came inside the entry (the manifest itself
    /// and the first outputs the last run used) are stored first if intact.
    private func loadManifest(_ id: Digest, name: String, into local: LocalStore) async -> (WarmManifest?, Int64) {
        var start = Monotonic.nanoseconds()
        guard let found = await guarded("get manifest \(name)", { try await store.entryWithAttachments(for: id) }),
            let (entry, attached) = found
        else { return (nil, 0) }
        // The entry's request is the process's first: a new connection, so two round trips.
        var roundTrip = (Monotonic.nanoseconds() - start) / 2
        storeAttached(attached, into: local)
        let limit = Int64(WarmManifest.maxEncodedSize)
        if !local.hasBlob(entry.outputID) {
            start = Monotonic.nanoseconds()
            guard entry.size <= limit, await blobDownload(entry, into: local).value else { return (nil, 0) }
            roundTrip = Monotonic.nanoseconds() - start
        }
        do {
            return (try WarmManifest(decoding: FileSystem.readFile(local.blobPath(entry.outputID))), roundTrip)
        } catch {
            logger.warning("remote \(store.name): ignoring warm manifest \(name): \(error)")
            return (nil, 0)
        }
    }

    /// A hit that needs no waiting: the manifest has loaded and names `actionID`, and its
    /// blob is already in the local store (prefetched and verified). Records the entry
    /// locally. Nil otherwise; `fetch` then does the rest.
    public func readyHit(_ actionID: Digest, in local: LocalStore) -> LocalStore.Hit? {
        guard let entry = warm.withLock({ $0.byAction[actionID] }), local.hasBlob(entry.outputID),
            let hit = recordLocally(entry, for: actionID, in: local)
        else { return nil }
        statistics.update { $0.manifestHits += 1 }
        return hit
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
        let (tasks, gates): ([Task<Bool, Never>], [PrefetchGate]) = warm.withLock { w in
            w.stopped = true
            w.prefetcher?.cancel()
            for read in w.segmentReads { read.cancel() }
            defer {
                w.gates = [:]
                w.arrivals = [:]
            }
            return (Array(w.downloads.values), Array(w.gates.values) + Array(w.arrivals.values))
        }
        for t in tasks { t.cancel() }
        for g in gates { g.open() }
    }

    /// Queues the writing of this run's manifest (see `WarmManifest.plan` and
    /// `writeManifest`). Nothing is written when the old manifest did not finish loading: a
    /// partial view must not replace it.
    func enqueueManifest(segmentDeadline: ContinuousClock.Instant) {
        guard mode == .readwrite, let name = manifestName else { return }
        let (plan, local): (WarmManifest.Plan?, LocalStore?) = warm.withLock { w in
            guard w.loadFinished, !w.used.isEmpty else { return (nil, nil) }
            return (WarmManifest.plan(used: w.used, older: w.loaded), w.local)
        }
        guard let plan, let local else { return }
        enqueue(
            Upload(
                actionID: WarmManifest.actionID(named: name), manifest: plan, local: local,
                segmentDeadline: segmentDeadline))
    }

    /// Writes the plan's new segments (compressed where the store asks for it), then the
    /// manifest itself, unless the loaded one already starts with exactly the entries this
    /// run used (order within them aside) and needs no new segment. Segments that fail, or
    /// are not stored by `segmentDeadline` (half of close's budget: a slow link must not cost
    /// the manifest), are left out of it.
    func writeManifest(
        _ planned: WarmManifest.Plan, actionID: Digest, local: LocalStore, segmentDeadline: ContinuousClock.Instant
    ) async {
        let plan = planned.compressing(await store.compressesSegments())
        if let loaded = plan.older, RemoteTier.leads(loaded, with: plan.used), plan.pending.isEmpty,
            plan.manifest.segments.count == loaded.segments.count
        {
            return
        }
        let compress = plan.compressing
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
                    group.addTask { [self] in
                        (pending.index, await self.writeSegment(pending.pieces, local: local, compress: compress))
                    }
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
            var upload = Upload(actionID: actionID, entry: entry, path: path)
            upload.attached = attachments(of: manifest, bytes: bytes, digest: digest, local: local)
            await self.upload(upload)
        } catch {
            logger.warning("cannot write the warm manifest: \(error)")
        }
    }

    /// Concatenates `pieces` from the local store into a temporary file and stores it in
    /// the remote unless it holds it already, zstd-compressed with `compress` if that pays;
    /// nil if that failed.
    private func writeSegment(_ pieces: [ActionEntry], local: LocalStore, compress: Bool) async
        -> WarmManifest.Segment?
    {
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
        var segment = WarmManifest.Segment(digest: hasher.finalize(), size: size)
        var source = temp.path
        var copy: String? = nil
        defer { if let copy { unlink(copy) } }
        if compress, let compressed = try? await Zstd.compressedCopy(of: temp.path, size: size) {
            copy = compressed.path
            segment = WarmManifest.Segment(
                digest: compressed.digest, size: compressed.size, contentSize: size, compressed: true)
            source = compressed.path
        }
        let stored = await guarded("write segment \(segment.digest)") { () async throws -> Bool in
            let missing = try await store.missingBlobs(sized: [(segment.digest, segment.size)])
            if missing.contains(segment.digest) {
                try await store.writeBlob(segment.digest, size: segment.size, from: source)
                statistics.update {
                    $0.segmentUploads += 1
                    $0.bytesUp += segment.size
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
