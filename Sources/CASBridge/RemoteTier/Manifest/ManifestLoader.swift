import Synchronization

/// Loads the warm manifest the last runs wrote, once, and answers which entry it holds for
/// an action; on loading, has the `DownloadCoordinator` register the prefetch of its blobs
/// and starts the `Prefetcher`. The warm manifest lets a run with an empty local store
/// download the blobs ahead of the go command's requests, many at once, instead of two
/// round trips per request while the go command waits.
package final class ManifestLoader: Sendable {
    private struct State: ~Copyable {
        var local: LocalStore?
        /// The loading's outcome: the manifest's entries by ActionID (empty without one).
        var loading: Flight<[Digest: ActionEntry]>?
        var loaded: WarmManifest?
        /// The loaded manifest's entries by ActionID.
        var byAction: [Digest: ActionEntry] = [:]
        var finished = false
    }

    /// Connections opened ahead of the prefetch, while the manifest loads.
    static let prefetchConnections = 16

    private let name: String
    private let remote: GuardedRemote
    private let downloads: DownloadCoordinator
    private let prefetcher: Prefetcher
    private let tasks: BackgroundTasks
    private let state = Mutex(State())

    package init(
        name: String, remote: GuardedRemote, downloads: DownloadCoordinator, prefetcher: Prefetcher,
        tasks: BackgroundTasks
    ) {
        self.name = name
        self.remote = remote
        self.downloads = downloads
        self.prefetcher = prefetcher
        self.tasks = tasks
    }

    /// Starts loading the manifest and prefetching its blobs into `local`, once.
    package func start(into local: LocalStore) {
        let flight: Flight<[Digest: ActionEntry]>? = state.withLock { s in
            guard s.loading == nil else { return nil }
            s.local = local
            let flight = Flight<[Digest: ActionEntry]>()
            s.loading = flight
            return flight
        }
        guard let flight else { return }
        // Connections for the prefetch open while the manifest is on its way.
        let store = remote.store
        tasks.spawn { await store.openConnections(ManifestLoader.prefetchConnections) }
        let started = tasks.spawn { [self] in flight.land(await self.load(into: local)) }
        if !started { flight.land([:]) }
    }

    private func load(into local: LocalStore) async -> [Digest: ActionEntry] {
        let (manifest, roundTrip) = await fetch(into: local)
        var byAction: [Digest: ActionEntry] = [:]
        for r in manifest?.records ?? [] { byAction[r.actionID] = r.entry }
        // The prefetch is registered before any get can see the manifest's entries.
        if let manifest, let (jobs, scope) = downloads.register(manifest, into: local) {
            let (prefetcher, breaker) = (self.prefetcher, remote.breaker)
            let window = prefetcher.window(roundTrip: roundTrip)
            let started = prefetcher.start(jobs, window: window, breaker: breaker)
            tasks.spawn(in: scope) { await prefetcher.run(jobs, started: started, window: window, breaker: breaker) }
        }
        state.withLock { s in
            s.loaded = manifest
            s.byAction = byAction
            s.finished = true
        }
        if let manifest {
            remote.statistics.update { $0[.manifestRecords] = Int64(manifest.records.count) }
        }
        return byAction
    }

    /// Fetches the manifest; also returns the remote's round trip: how long the
    /// manifest's blob took on a connection already open when it did not come inside its
    /// entry, else half the entry's request. The blobs that came inside the entry (the manifest
    /// itself and the first outputs the last run used) are stored first if intact.
    private func fetch(into local: LocalStore) async -> (WarmManifest?, Duration) {
        let id = WarmManifest.actionID(named: name)
        let store = remote.store
        var start = ContinuousClock.now
        guard let found = await remote.run("get manifest \(name)", { try await store.entryWithAttachments(for: id) }),
            let (entry, attached) = found
        else { return (nil, .zero) }
        // The entry's request is the process's first: a new connection, so two round trips.
        var roundTrip = (ContinuousClock.now - start) / 2
        let (stored, corrupt) = ManifestAttachments.store(attached, into: local)
        remote.statistics.update {
            $0[.bytesDown] += stored
            $0[.corruptBlobs] += Int64(corrupt)
        }
        let limit = Int64(WarmManifest.maxEncodedSize)
        if !local.hasBlob(entry.outputID) {
            start = ContinuousClock.now
            guard entry.size <= limit, await downloads.download(entry, into: local).value else { return (nil, .zero) }
            roundTrip = ContinuousClock.now - start
        }
        do {
            return (try WarmManifest(decoding: FileSystem.readFile(local.blobPath(entry.outputID))), roundTrip)
        } catch {
            remote.logger.warning("remote \(store.name): ignoring warm manifest \(name): \(error)")
            return (nil, .zero)
        }
    }

    /// The manifest's entry for `actionID`, once the manifest has loaded (nil if loading
    /// never started).
    package func entry(for actionID: Digest) async -> ActionEntry? {
        guard let loading = state.withLock({ $0.loading }) else { return nil }
        return await loading.value[actionID]
    }

    /// The manifest's entry for `actionID` if the manifest has loaded already.
    package func loadedEntry(for actionID: Digest) -> ActionEntry? {
        state.withLock { $0.byAction[actionID] }
    }

    /// The manifest the last runs wrote and the local store it was loaded into, once loading
    /// finished (the manifest nil without one); nil before.
    package var outcome: (manifest: WarmManifest?, local: LocalStore)? {
        state.withLock { s in
            guard s.finished, let local = s.local else { return nil }
            return (s.loaded, local)
        }
    }
}
