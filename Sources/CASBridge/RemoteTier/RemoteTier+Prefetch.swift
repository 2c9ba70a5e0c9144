import Glibc

/// Prefetching the warm manifest's blobs: the window of bytes in flight, the jobs in the go
/// command's order, segment reads and single downloads behind their gates.
extension RemoteTier {
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
    func schedulePrefetch(
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
    func prefetch(_ jobs: [PrefetchJob], window: Int64) async {
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
}
