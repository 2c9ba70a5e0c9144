/// The prefetch's downloads: a segment read for the outputs packed in a segment, a blob
/// read for the others, each behind a gate the `Prefetcher` opens in its turn.
extension DownloadCoordinator {
    /// Registers a download for every output of the manifest that the local store's index
    /// does not name (the downloads check the file system themselves, just before reading),
    /// each waiting behind a gate: a segment read for packed outputs (each output then read
    /// on its own if the segment did not deliver it), a blob read for the others. Returns the
    /// gates' jobs in the order of the go command's first use and the scope to run the
    /// prefetcher in; nil once stopped. Runs before any get sees the manifest, so no get
    /// starts a second download; a get that needs a download before the prefetcher reaches
    /// it opens its gate (`download`).
    package func register(_ manifest: WarmManifest, into local: LocalStore) -> (
        jobs: [PrefetchJob], scope: BackgroundTasks.Scope
    )? {
        var started: [(gate: PrefetchGate, body: @Sendable () async -> Void)] = []
        let registered = state.withLock { s -> ([PrefetchJob], BackgroundTasks.Scope)? in
            guard !s.stopped else { return nil }
            var pieces = [[SegmentSplitter.Piece]](repeating: [], count: manifest.segments.count)
            var firstUse = [Int](repeating: Int.max, count: manifest.segments.count)
            var singles: [(position: Int, entry: ActionEntry)] = []
            var seen = Set<Digest>()
            for (i, r) in manifest.records.enumerated() {
                let id = r.entry.outputID
                guard s.downloads[id] == nil, s.arrivals[id] == nil, seen.insert(id).inserted, !local.knowsBlob(id)
                else { continue }
                if let p = r.placement {
                    pieces[p.segment].append(SegmentSplitter.Piece(offset: p.offset, entry: r.entry))
                    firstUse[p.segment] = min(firstUse[p.segment], i)
                } else {
                    singles.append((i, r.entry))
                }
            }
            var jobs: [(position: Int, job: PrefetchJob)] = []
            for (i, segment) in manifest.segments.enumerated() where !pieces[i].isEmpty {
                let gate = PrefetchGate()
                let wanted = pieces[i]
                // One per piece, opened when the piece is stored (or the read is over), so a get
                // waits for its output's bytes, not for the rest of the segment.
                var arrivals: [Digest: PrefetchGate] = [:]
                for piece in wanted { arrivals[piece.entry.outputID] = PrefetchGate() }
                let arrived = arrivals
                let read = Flight<Bool>()
                started.append(
                    (
                        gate,
                        { [self] in
                            let missed = await self.readSegment(segment, pieces: wanted, into: local) {
                                arrived[$0]?.open()
                            }
                            for a in arrived.values { a.open() }
                            // What the segment did not deliver is read on its own.
                            if !Task.isCancelled, !self.stopped {
                                for entry in missed { _ = self.download(entry, into: local) }
                            }
                            read.land(true)
                        }
                    ))
                for piece in wanted {
                    s.gates[piece.entry.outputID] = gate
                    s.arrivals[piece.entry.outputID] = arrived[piece.entry.outputID]
                }
                jobs.append((firstUse[i], PrefetchJob(gate: gate, bytes: segment.size, finished: read)))
            }
            for (position, entry) in singles {
                let gate = PrefetchGate()
                let flight = Flight<Bool>()
                started.append(
                    (gate, { [self] in flight.land(await self.downloadOrForget(entry, into: local)) }))
                s.gates[entry.outputID] = gate
                s.downloads[entry.outputID] = flight
                jobs.append((position, PrefetchJob(gate: gate, bytes: entry.size, finished: flight)))
            }
            return (jobs.sorted { $0.position < $1.position }.map(\.job), s.scope)
        }
        guard let (jobs, scope) = registered else { return nil }
        for (gate, body) in started {
            tasks.spawn(in: scope) {
                await gate.wait()
                await body()
            }
        }
        return (jobs, scope)
    }

    /// Reads a segment into the local store and returns the outputs it should have
    /// delivered but did not (damaged, or the read failed); none once prefetching stopped.
    private func readSegment(
        _ segment: WarmManifest.Segment, pieces: [SegmentSplitter.Piece], into local: LocalStore,
        published: @escaping @Sendable (Digest) -> Void
    ) async -> [ActionEntry] {
        let needed = pieces.filter { !local.hasBlob($0.entry.outputID) }
        guard !needed.isEmpty, !Task.isCancelled, remote.breaker.position == .closed else { return [] }
        let splitter = SegmentSplitter(pieces: needed, local: local, published: published)
        let sink: any BlobSink = segment.compressed ? ZstdSink(splitter) : splitter
        let found = await remote.run("read segment \(segment.digest)") {
            try await store.readBlob(segment.digest, size: segment.size, to: sink)
        }
        splitter.finish()
        statistics.update {
            if found == true { $0[.segmentReads] += 1 }
            $0[.bytesDown] += splitter.publishedBytes
            $0[.corruptBlobs] += Int64(splitter.corrupt.count)
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
