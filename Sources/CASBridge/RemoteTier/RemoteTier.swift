public import Logging
import Synchronization

/// A remote store behind the local one, and the one owner of tiering: a get that misses
/// locally goes to the remote (the warm manifest, then the action cache), its blob is
/// downloaded and verified into the local store, and its entry recorded there; puts are
/// uploaded in the background. The jobs are each one type's (see docs/development.md):
/// `GuardedRemote` (breaker), `DownloadCoordinator` (single-flight verified downloads),
/// `ManifestLoader` and `Prefetcher` (warm start), `ManifestUsage` and `ManifestWriter`
/// (this run's manifest), `UploadQueue` (uploads and their drain), all running their
/// background work as children of one `BackgroundTasks` root.
public final class RemoteTier: Sendable {
    /// Whether puts are uploaded.
    public let mode: RemoteMode
    /// The warm manifest's name; nil when manifests are off.
    public let manifestName: String?
    /// At most this long for writing warm-manifest segments at close (always at most half
    /// of close's budget).
    public let segmentTimeLimit: Duration?
    /// The largest prefetch window.
    public static let prefetchCeiling: Int64 = Prefetcher.ceiling

    let remote: GuardedRemote
    /// The root of the tier's background work, and of the server's gets that wait for it.
    package let tasks: BackgroundTasks
    let downloads: DownloadCoordinator
    let prefetcher: Prefetcher
    let loader: ManifestLoader?
    let usage = ManifestUsage()
    let uploads: UploadQueue
    /// Consecutive action-cache misses: past a threshold, misses stop waiting for the remote.
    let missStreak = MissStreak()
    private let announcedColdRemote = Atomic<Bool>(false)

    /// Creates a tier over `store`. `prefetchConcurrency`, `prefetchBytes` and
    /// `prefetchBandwidth` size the warm manifest's prefetch (see `Prefetcher`).
    public init(
        store: any CacheStore, mode: RemoteMode, statistics: HelperStatistics, logger: Logger,
        breaker: CircuitBreaker = CircuitBreaker(), maxConcurrentUploads: Int = 16, maxQueuedUploads: Int = 4096,
        manifestName: String? = "default", prefetchConcurrency: Int = 32, prefetchBytes: Int64 = 16 << 20,
        prefetchBandwidth: Int64 = 1 << 30, segmentTimeLimit: Duration? = nil
    ) {
        self.mode = mode
        self.manifestName = manifestName
        self.segmentTimeLimit = segmentTimeLimit
        let tasks = BackgroundTasks()
        let remote = GuardedRemote(store: store, breaker: breaker, statistics: statistics, logger: logger)
        let downloads = DownloadCoordinator(remote: remote, tasks: tasks)
        let prefetcher = Prefetcher(
            concurrency: prefetchConcurrency, bytes: prefetchBytes, bandwidth: prefetchBandwidth)
        self.tasks = tasks
        self.remote = remote
        self.downloads = downloads
        self.prefetcher = prefetcher
        loader = manifestName.map {
            ManifestLoader(name: $0, remote: remote, downloads: downloads, prefetcher: prefetcher, tasks: tasks)
        }
        uploads = UploadQueue(
            remote: remote, manifests: ManifestWriter(remote: remote, maxConcurrent: maxConcurrentUploads),
            tasks: tasks, maxConcurrent: maxConcurrentUploads, maxQueued: maxQueuedUploads,
            enabled: mode == .readwrite)
    }

    /// The remote store.
    public var store: any CacheStore { remote.store }
    /// The breaker that takes the remote out after repeated failures.
    public var breaker: CircuitBreaker { remote.breaker }
    var statistics: HelperStatistics { remote.statistics }
    /// How many blobs or segments the prefetcher downloads at once, at most.
    public var prefetchConcurrency: Int { prefetcher.concurrency }
    /// How many bytes the prefetcher has in flight, at most (see `Prefetcher.bytes`).
    public var prefetchBytes: Int64 { prefetcher.bytes }
    /// The link speed the prefetch window is sized for (see `Prefetcher.bandwidth`).
    public var prefetchBandwidth: Int64 { prefetcher.bandwidth }

    /// The prefetch window for a remote whose round trip is `roundTrip`.
    package func prefetchWindow(roundTrip: Duration) -> Int64 {
        prefetcher.window(roundTrip: roundTrip)
    }

    /// Starts loading the warm manifest and prefetching its blobs into `local`, once: on the
    /// first local miss, so runs served entirely from the local store never ask for it, or
    /// at start-up when the local store is empty.
    public func startWarming(into local: LocalStore) {
        loader?.start(into: local)
    }

    /// Looks `actionID` up remotely (in the warm manifest, loaded on the first call, then
    /// the action cache); on a hit, downloads and verifies the blob into the local store
    /// (unless it is there already) and records the entry locally.
    public func fetch(_ actionID: Digest, into local: LocalStore) async -> LocalStore.Hit? {
        startWarming(into: local)
        if let entry = await loader?.entry(for: actionID) {
            if await downloads.download(entry, into: local).value,
                let hit = recordLocally(entry, for: actionID, in: local)
            {
                statistics.add(.manifestHits)
                return hit
            }
        }
        if missStreak.isCold {
            probeInBackground(actionID)
            statistics.add(.remoteMisses)
            return nil
        }
        let store = self.store
        let looked = await remote.run("get action \(actionID)", { try await store.entry(for: actionID) })
        if let looked { missStreak.note(hit: looked != nil) }
        guard let found = looked, let entry = found else {
            statistics.add(.remoteMisses)
            return nil
        }
        guard await downloads.download(entry, into: local).value else {
            statistics.add(.remoteMisses)
            return nil
        }
        return recordLocally(entry, for: actionID, in: local)
    }

    /// Whether misses are answered without waiting for the remote (`MissStreak`).
    package var isSkippingMisses: Bool { missStreak.isCold }

    /// While the remote misses everything (`missStreak`), one lookup at a time still asks
    /// it, in the background (a child of the tier's root task group), so that its first hit
    /// makes gets wait for it again.
    private func probeInBackground(_ actionID: Digest) {
        guard missStreak.startProbe() else { return }
        if !announcedColdRemote.exchange(true, ordering: .relaxed) {
            let streak = MissStreak.threshold
            remote.logger.info(
                "remote \(store.name): \(streak) misses in a row; misses stop waiting for it until it hits")
        }
        let (remote, streak) = (self.remote, missStreak)
        let started = tasks.spawn {
            defer { streak.endProbe() }
            let store = remote.store
            if let found = await remote.run("get action \(actionID)", { try await store.entry(for: actionID) }) {
                streak.note(hit: found != nil)
            }
        }
        if !started { missStreak.endProbe() }
    }

    /// A hit that needs no waiting: the manifest has loaded and names `actionID`, and its
    /// blob is already in the local store (prefetched and verified). Records the entry
    /// locally. Nil otherwise; `fetch` then does the rest.
    public func readyHit(_ actionID: Digest, in local: LocalStore) -> LocalStore.Hit? {
        guard let entry = loader?.loadedEntry(for: actionID), local.hasBlob(entry.outputID),
            let hit = recordLocally(entry, for: actionID, in: local)
        else { return nil }
        statistics.add(.manifestHits)
        return hit
    }

    func recordLocally(_ entry: ActionEntry, for actionID: Digest, in local: LocalStore) -> LocalStore.Hit? {
        do {
            try local.record(entry, for: actionID)
        } catch {
            return nil
        }
        return LocalStore.Hit(entry: entry, path: local.blobPath(entry.outputID))
    }

    /// Notes that the go command used `entry` for `actionID` (a hit or a put), for the
    /// manifest this run writes.
    public func noteUse(_ actionID: Digest, _ entry: ActionEntry) {
        guard mode == .readwrite, manifestName != nil else { return }
        usage.note(actionID, entry)
    }

    /// Queues an upload of a put in the background (read-write mode only).
    public func enqueueUpload(actionID: Digest, entry: ActionEntry, path: String) {
        guard mode == .readwrite else { return }
        uploads.enqueue(.blob(actionID: actionID, entry: entry, path: path))
    }

    /// Stops prefetching, queues the warm manifest's upload (read-write mode), stops
    /// accepting uploads and waits up to `timeout` for queued ones to finish.
    /// Returns how many were still pending when the time ran out.
    public func drain(timeout: Duration) async -> Int {
        downloads.stop()
        enqueueManifest(segmentDeadline: .now + min(timeout / 2, segmentTimeLimit ?? timeout))
        return await uploads.drain(timeout: timeout)
    }

    /// Queues the writing of this run's manifest (see `WarmManifest.plan` and
    /// `ManifestWriter`). Nothing is written when the old manifest did not finish loading: a
    /// partial view must not replace it.
    private func enqueueManifest(segmentDeadline: ContinuousClock.Instant) {
        guard mode == .readwrite, let name = manifestName, let (loaded, local) = loader?.outcome else { return }
        let used = usage.records
        guard !used.isEmpty else { return }
        uploads.enqueue(
            .manifest(
                Upload.Manifest(
                    actionID: WarmManifest.actionID(named: name), plan: WarmManifest.plan(used: used, older: loaded),
                    local: local, segmentDeadline: segmentDeadline)))
    }
}
