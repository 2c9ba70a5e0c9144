public import Logging
import Synchronization

/// Downloads of blobs from the remote into the local store: one download per blob at a
/// time (single flight), shared by the gets and the prefetcher that need it, each received
/// by a `BlobReceiver` so that only content matching its OutputID is published. Downloads
/// run as children of the root task group, in a scope that close cancels (`stop`).
package final class DownloadCoordinator: Sendable {
    struct State: ~Copyable {
        /// The download of each blob being fetched, by OutputID; a failed one is forgotten.
        var downloads: [Digest: Flight<Bool>] = [:]
        /// The gates of prefetches that wait for their turn, by OutputID.
        var gates: [Digest: PrefetchGate] = [:]
        /// For an output packed in a segment that is being or will be read: the gate its
        /// arrival opens. A get that finds its output there but not yet stored waits on it
        /// (`download`); outputs that arrive first cost no task.
        var arrivals: [Digest: PrefetchGate] = [:]
        /// The scope of the downloads, segment reads and prefetcher started so far.
        var scope = BackgroundTasks.Scope()
        var stopped = false
    }

    let remote: GuardedRemote
    let tasks: BackgroundTasks
    let state = Mutex(State())
    let announcedCorruption = Atomic<Bool>(false)

    package init(remote: GuardedRemote, tasks: BackgroundTasks) {
        self.remote = remote
        self.tasks = tasks
    }

    var store: any CacheStore { remote.store }
    var statistics: HelperStatistics { remote.statistics }
    var logger: Logger { remote.logger }

    /// The download of `entry`'s blob into `local`, started unless one is under way; its
    /// value says whether the blob is there. A prefetch still waiting for its turn starts now.
    package func download(_ entry: ActionEntry, into local: LocalStore) -> Flight<Bool> {
        let id = entry.outputID
        let (flight, started, gate, arrival, scope) = state.withLock {
            s -> (Flight<Bool>, Bool, PrefetchGate?, PrefetchGate?, BackgroundTasks.Scope) in
            if let running = s.downloads[id] { return (running, false, s.gates.removeValue(forKey: id), nil, s.scope) }
            let flight = Flight<Bool>()
            s.downloads[id] = flight
            // Packed in a segment: wait for the read to store it, else read it on its own.
            let arrival = s.arrivals.removeValue(forKey: id)
            return (flight, true, arrival == nil ? nil : s.gates.removeValue(forKey: id), arrival, s.scope)
        }
        gate?.open()
        guard started else { return flight }
        let spawned = tasks.spawn(in: scope) { [self] in
            if let arrival {
                await arrival.wait()
                if local.hasBlob(id) { return flight.land(true) }
            }
            flight.land(await self.downloadOrForget(entry, into: local))
        }
        if !spawned { flight.land(forget(id)) }
        return flight
    }

    /// Downloads `entry`'s blob; a failed download is forgotten, so a later get may retry it.
    func downloadOrForget(_ entry: ActionEntry, into local: LocalStore) async -> Bool {
        let present = await receive(entry, into: local)
        if !present { _ = forget(entry.outputID) }
        return present
    }

    /// Forgets the download of `id`; false.
    private func forget(_ id: Digest) -> Bool {
        state.withLock { _ = $0.downloads.removeValue(forKey: id) }
        return false
    }

    /// Reads `entry`'s blob from the remote into a `BlobReceiver` and publishes it if it is
    /// what the entry names; a blob of the wrong content is counted and treated as a miss.
    func receive(_ entry: ActionEntry, into local: LocalStore) async -> Bool {
        if local.hasBlob(entry.outputID) { return true }
        if Task.isCancelled { return false }
        // The empty output needs no round trip: its content is known.
        if entry.outputID == .empty, entry.size == 0 { return (try? local.publish(bytes: [])) != nil }
        guard let receiver = try? BlobReceiver(into: local, expecting: entry.outputID) else { return false }
        // Publishing is part of the guarded step: a local failure there is this machine's.
        let got = await remote.run("read blob \(entry.outputID)") { () async throws -> BlobReceiver.Outcome? in
            guard try await store.readBlob(entry.outputID, size: entry.size, to: receiver) else { return nil }
            return try receiver.publish(as: entry.outputID, size: entry.size, time: entry.time)
        }
        receiver.discard()
        guard let got, let outcome = got else { return false }
        switch outcome {
        case .published(let hash, _):
            statistics.add(.bytesDown, hash.size)
            return true
        case .mismatch:
            statistics.add(.corruptBlobs)
            if !announcedCorruption.exchange(true, ordering: .relaxed) {
                logger.warning(
                    "remote \(store.name) served blob \(entry.outputID) with the wrong content; treated as a miss (further ones are counted, not logged)"
                )
            } else {
                logger.debug("remote \(store.name) served blob \(entry.outputID) with the wrong content")
            }
            return false
        }
    }

    /// Stops: cancels the downloads, segment reads and prefetcher started so far and lets
    /// every waiting prefetch through its gate (to find itself cancelled). Downloads a get
    /// starts later run in a new scope.
    package func stop() {
        let (scope, gates) = state.withLock { s -> (BackgroundTasks.Scope, [PrefetchGate]) in
            s.stopped = true
            let old = s.scope
            s.scope = BackgroundTasks.Scope()
            defer {
                s.gates = [:]
                s.arrivals = [:]
            }
            return (old, Array(s.gates.values) + Array(s.arrivals.values))
        }
        scope.cancel()
        for g in gates { g.open() }
    }

    /// Whether `stop` was called.
    var stopped: Bool { state.withLock { $0.stopped } }
}
