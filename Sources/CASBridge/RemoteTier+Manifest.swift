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

    /// Loads the manifest; also returns how long its blob took to arrive (nanoseconds): one
    /// round trip on a connection already open, plus a small transfer.
    private func loadManifest(_ id: Digest, name: String, into local: LocalStore) async -> (WarmManifest?, Int64) {
        guard let found = await guarded("get manifest \(name)", { try await store.entry(for: id) }),
            let entry = found
        else { return (nil, 0) }
        let limit = Int64(WarmManifest.maxEncodedSize)
        let start = Monotonic.nanoseconds()
        guard entry.size <= limit, await blobDownload(entry, into: local).value else { return (nil, 0) }
        let roundTrip = Monotonic.nanoseconds() - start
        do {
            return (try WarmManifest(decoding: FileSystem.readFile(local.blobPath(entry.outputID))), roundTrip)
        } catch {
            logger.warning("remote \(store.name): ignoring warm manifest \(name): \(error)")
            return (nil, 0)
        }
    }

    /// The prefetch window for a remote whose round trip is `roundTrip` nanoseconds: enough
    /// bytes in flight to keep a link of `prefetchBandwidth` busy for two round trips, so a
    /// far remote is not asked one small window at a time, and no less than `prefetchBytes`.
    package func prefetchWindow(roundTrip: Int64) -> Int64 {
        let wanted = Double(prefetchBandwidth) * 2 * Double(max(0, roundTrip)) / 1e9
        return max(prefetchBytes, min(RemoteTier.prefetchCeiling, Int64(wanted)))
    }

    /// A download the prefetcher starts in its turn: a segment read or one blob's.
    struct PrefetchJob: Sendable {
        var gate: PrefetchGate
        var bytes: Int64
        var finished: @Sendable () async -> Void
    }

    /// Registers a download for every output of the manifest that the local store's index
    /// does not name (the downloads check the file system themselves, just before reading),
    /// each waiting behind a gate: a segment read for packed outputs (each output then read
    /// on its own if the segment did not deliver it), a blob read for the others. Returns the
    /// gates' jobs in the order of the go command's first use. Runs under the `warm` lock
    /// before any get sees the manifest, so no get starts a second download; a get that
    /// needs a download before the prefetcher reaches it opens its gate (`blobDownload`).
    private func schedulePrefetch(
        _ manifest: WarmManifest, into local: LocalStore, _ w: inout WarmState
    ) -> [PrefetchJob] {
        var pieces = [[SegmentSplitter.Piece]](repeating: [], count: manifest.segments.count)
        var firstUse = [Int](repeating: Int.max, count: manifest.segments.count)
        var singles: [(position: Int, entry: ActionEntry)] = []
        var seen = Set<Digest>()
        for (i, r) in manifest.records.enumerated() {
            let id = r.entry.outputID
            guard w.downloads[id] == nil, w.arrivals[id] == nil, seen.insert(id).inserted, !local.knowsBlob(id)
            else { continue }
            if let p = r.placement {
                pieces[p.segment].append(SegmentSplitter.Piece(offset: p.offset, entry: r.entry))
                firstUse[p.segment] = min(firstUse[p.segment], i)
            } else {
                singles.append((i, r.entry))
            }
        }
        var jobs: [(position: Int, job: PrefetchJob)] = []
        var reads: [Task<Void, Never>] = []
        for (i, segment) in manifest.segments.enumerated() where !pieces[i].isEmpty {
            let gate = PrefetchGate()
            let wanted = pieces[i]
            // One per piece, opened when the piece is stored (or the read is over), so a get
            // waits for its output's bytes, not for the rest of the segment.
            var arrivals: [Digest: PrefetchGate] = [:]
            for piece in wanted { arrivals[piece.entry.outputID] = PrefetchGate() }
            let arrived = arrivals
            let read = Task.detached { [self] in
                await gate.wait()
                let missed = await self.readSegment(segment, pieces: wanted, into: local) { arrived[$0]?.open() }
                for a in arrived.values { a.open() }
                // What the segment did not deliver is read on its own.
                if !Task.isCancelled, !self.warm.withLock({ $0.stopped }) {
                    for entry in missed { _ = self.blobDownload(entry, into: local) }
                }
            }
            reads.append(read)
            for piece in wanted {
                w.gates[piece.entry.outputID] = gate
                w.arrivals[piece.entry.outputID] = arrived[piece.entry.outputID]
            }
            jobs.append((firstUse[i], PrefetchJob(gate: gate, bytes: segment.size, finished: { await read.value })))
        }
        for (position, entry) in singles {
            let gate = PrefetchGate()
            let task = Task.detached { [self] in
                await gate.wait()
                return await self.downloadOrForget(entry, into: local)
            }
            w.gates[entry.outputID] = gate
            w.downloads[entry.outputID] = task
            jobs.append((position, PrefetchJob(gate: gate, bytes: entry.size, finished: { _ = await task.value })))
        }
        w.segmentReads = reads
        return jobs.sorted { $0.position < $1.position }.map(\.job)
    }

    /// Opens the jobs' gates in order, keeping at most `prefetchConcurrency` downloads and
    /// `window` bytes in flight (always at least one), so that what the go command asks for
    /// first arrives first instead of sharing the link with everything else. A failing remote
    /// ends the prefetch: the gates left closed open only for a get that needs their download
    /// (which may then take the breaker's half-open probe) or at close (`stopPrefetching`).
    private func prefetch(_ jobs: [PrefetchJob], window: Int64) async {
        await withTaskGroup(of: Int64.self) { group in
            var running = 0
            var runningBytes: Int64 = 0
            var next = 0
            while next < jobs.count {
                if Task.isCancelled || breaker.position != .closed { break }
                let job = jobs[next]
                if running > 0 && (running >= prefetchConcurrency || runningBytes + job.bytes > window) {
                    if let bytes = await group.next() {
                        running -= 1
                        runningBytes -= bytes
                    }
                    continue
                }
                next += 1
                job.gate.open()
                running += 1
                runningBytes += job.bytes
                group.addTask {
                    await job.finished()
                    return job.bytes
                }
            }
        }
    }

    /// Downloads `entry`'s blob; a failed download is forgotten, so a later get may retry it.
    func downloadOrForget(_ entry: ActionEntry, into local: LocalStore) async -> Bool {
        let present = await download(entry, into: local)
        if !present { warm.withLock { _ = $0.downloads.removeValue(forKey: entry.outputID) } }
        return present
    }

    /// Reads a segment into the local store and returns the outputs it should have
    /// delivered but did not (damaged, or the read failed); none once prefetching stopped.
    private func readSegment(
        _ segment: WarmManifest.Segment, pieces: [SegmentSplitter.Piece], into local: LocalStore,
        published: @escaping @Sendable (Digest) -> Void
    ) async -> [ActionEntry] {
        let needed = pieces.filter { !local.hasBlob($0.entry.outputID) }
        guard !needed.isEmpty, !Task.isCancelled, breaker.position == .closed else { return [] }
        let splitter = SegmentSplitter(pieces: needed, local: local, published: published)
        let sink: any BlobSink = segment.compressed ? ZstdSink(splitter) : splitter
        let found = await guarded("read segment \(segment.digest)") {
            try await store.readBlob(segment.digest, size: segment.size, to: sink)
        }
        splitter.finish()
        statistics.update {
            if found == true { $0.segmentReads += 1 }
            $0.bytesDown += splitter.publishedBytes
            $0.corruptBlobs += splitter.corrupt.count
        }
        if let first = splitter.corrupt.first, !announcedCorruption.exchange(true, ordering: .relaxed) {
            logger.warning(
                "remote \(store.name): segment \(segment.digest) held \(splitter.corrupt.count) damaged outputs (first \(first)); reading them on their own"
            )
        }
        let delivered = Set(splitter.published)
        return needed.lazy.map(\.entry).filter { !delivered.contains($0.outputID) }
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
            await upload(Upload(actionID: actionID, entry: entry, path: path))
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
