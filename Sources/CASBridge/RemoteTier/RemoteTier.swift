import Glibc
public import Logging
import Synchronization

/// A remote store behind the local one: verified downloads, background uploads with
/// bounded concurrency, a circuit breaker, and read-only mode.
public final class RemoteTier: Sendable {
    /// The remote store.
    public let store: any CacheStore
    /// Whether puts are uploaded.
    public let mode: RemoteMode
    /// The breaker that takes the remote out after repeated failures.
    public let breaker: CircuitBreaker
    let logger: Logger
    let statistics: HelperStatistics
    let maxConcurrentUploads: Int
    let announcedDown = Atomic<Bool>(false)
    let announcedLocalFailure = Atomic<Bool>(false)
    let announcedCorruption = Atomic<Bool>(false)
    let announcedColdRemote = Atomic<Bool>(false)
    /// Consecutive action-cache misses: past a threshold, misses stop waiting for the remote.
    let missStreak = MissStreak()

    let uploads: Mutex<UploadState>
    let warm = Mutex(WarmState())
    /// The warm manifest's name; nil when manifests are off.
    public let manifestName: String?
    /// How many blobs or segments the prefetcher downloads at once, at most.
    public let prefetchConcurrency: Int
    /// How many bytes the prefetcher has in flight, at most (one download may exceed it),
    /// unless the remote's round trip calls for more (`prefetchBandwidth`).
    public let prefetchBytes: Int64
    /// The link speed, in bytes per second, that the prefetch window is sized for: twice the
    /// round trip's worth of it, between `prefetchBytes` and `prefetchCeiling`; 0 keeps the
    /// window at `prefetchBytes`.
    public let prefetchBandwidth: Int64
    /// The largest prefetch window.
    public static let prefetchCeiling: Int64 = 256 << 20
    /// Connections opened ahead of the prefetch, while the manifest loads.
    static let prefetchConnections = 16
    /// At most this long for writing warm-manifest segments at close (always at most half
    /// of close's budget).
    public let segmentTimeLimit: Duration?

    /// Creates a tier over `store`.
    public init(
        store: any CacheStore, mode: RemoteMode, statistics: HelperStatistics, logger: Logger,
        breaker: CircuitBreaker = CircuitBreaker(), maxConcurrentUploads: Int = 16, maxQueuedUploads: Int = 4096,
        manifestName: String? = "default", prefetchConcurrency: Int = 32, prefetchBytes: Int64 = 16 << 20,
        prefetchBandwidth: Int64 = 1 << 30, segmentTimeLimit: Duration? = nil
    ) {
        self.prefetchBytes = max(1, prefetchBytes)
        self.prefetchBandwidth = max(0, prefetchBandwidth)
        self.segmentTimeLimit = segmentTimeLimit
        self.manifestName = manifestName
        self.prefetchConcurrency = max(1, prefetchConcurrency)
        self.store = store
        self.mode = mode
        self.statistics = statistics
        self.logger = logger
        self.breaker = breaker
        self.maxConcurrentUploads = maxConcurrentUploads
        uploads = Mutex(UploadState())
        if mode == .readwrite {
            let (stream, continuation) = AsyncStream<Upload>.makeStream(
                bufferingPolicy: .bufferingOldest(maxQueuedUploads))
            let consumer = Task.detached { [self] in await self.runUploads(stream) }
            uploads.withLock {
                $0.continuation = continuation
                $0.consumer = consumer
            }
        }
    }

    /// Runs `operation` against the remote unless the breaker is open; failures are
    /// counted, logged once when the breaker opens, and turned into nil. A failure of this
    /// machine's own (the local store cannot take a download) is logged once and does not
    /// count against the remote.
    func guarded<T: Sendable>(_ what: String, _ operation: () async throws -> T) async -> T? {
        guard breaker.allow() else { return nil }
        do {
            let value = try await operation()
            if breaker.position != .closed || announcedDown.load(ordering: .relaxed) {
                if announcedDown.exchange(false, ordering: .relaxed) {
                    logger.notice("remote \(store.name) is reachable again")
                }
            }
            breaker.succeeded()
            return value
        } catch {
            // Stopped by us (close ended the prefetch), not a remote failure.
            if error is CancellationError || Task.isCancelled { return nil }
            // The local side failed (a full disk, say): not the remote's fault, and no reason to
            // stop uploading what the local store already holds.
            if RemoteTier.isLocal(error) {
                breaker.released()
                if !announcedLocalFailure.exchange(true, ordering: .relaxed) {
                    logger.warning("remote \(store.name): \(what) failed on this machine, not the remote: \(error)")
                }
                return nil
            }
            statistics.update { $0.remoteErrors += 1 }
            logger.debug("remote \(store.name): \(what) failed: \(error)")
            if breaker.failed() {
                statistics.update { $0.breakerTrips += 1 }
                if !announcedDown.exchange(true, ordering: .relaxed) {
                    logger.warning(
                        "remote \(store.name) failed repeatedly (last: \(error)); continuing with the local store only")
                }
            }
            return nil
        }
    }

    /// Whether `error` is this machine's (the local file system's), not the remote's.
    static func isLocal(_ error: any Error) -> Bool {
        error is SystemError || (error as? CASError)?.code == .io
    }

    /// Looks `actionID` up remotely (in the warm manifest, loaded on the first call, then
    /// the action cache); on a hit, downloads and verifies the blob into the local store
    /// (unless it is there already) and records the entry locally.
    public func fetch(_ actionID: Digest, into local: LocalStore) async -> LocalStore.Hit? {
        startWarming(into: local)
        if let entry = await manifestEntry(for: actionID) {
            if await blobDownload(entry, into: local).value, let hit = recordLocally(entry, for: actionID, in: local) {
                statistics.update { $0.manifestHits += 1 }
                return hit
            }
        }
        if missStreak.isCold {
            probeInBackground(actionID)
            statistics.update { $0.remoteMisses += 1 }
            return nil
        }
        let looked = await guarded("get action \(actionID)", { try await store.entry(for: actionID) })
        if let looked { missStreak.note(hit: looked != nil) }
        guard let found = looked, let entry = found else {
            statistics.update { $0.remoteMisses += 1 }
            return nil
        }
        guard await blobDownload(entry, into: local).value else {
            statistics.update { $0.remoteMisses += 1 }
            return nil
        }
        return recordLocally(entry, for: actionID, in: local)
    }

    /// Whether misses are answered without waiting for the remote (`MissStreak`).
    package var isSkippingMisses: Bool { missStreak.isCold }

    /// While the remote misses everything (`missStreak`), one lookup at a time still asks
    /// it, in the background, so that its first hit makes gets wait for it again.
    private func probeInBackground(_ actionID: Digest) {
        guard missStreak.startProbe() else { return }
        if missStreak.isCold, !announcedColdRemote.exchange(true, ordering: .relaxed) {
            let streak = MissStreak.threshold
            logger.info("remote \(store.name): \(streak) misses in a row; misses stop waiting for it until it hits")
        }
        Task.detached { [self] in
            defer { missStreak.endProbe() }
            if let found = await guarded("get action \(actionID)", { try await store.entry(for: actionID) }) {
                missStreak.note(hit: found != nil)
            }
        }
    }

    func recordLocally(_ entry: ActionEntry, for actionID: Digest, in local: LocalStore) -> LocalStore.Hit? {
        do {
            try local.record(entry, for: actionID)
        } catch {
            return nil
        }
        return LocalStore.Hit(entry: entry, path: local.blobPath(entry.outputID))
    }

    /// The download of `entry`'s blob into the local store: one per blob, shared by the
    /// gets and the prefetcher that need it. Its value says whether the blob is there.
    func blobDownload(_ entry: ActionEntry, into local: LocalStore) -> Task<Bool, Never> {
        let (task, gate) = warm.withLock { w -> (Task<Bool, Never>, PrefetchGate?) in
            // A prefetch still waiting for its turn starts now.
            if let running = w.downloads[entry.outputID] {
                return (running, w.gates.removeValue(forKey: entry.outputID))
            }
            let task: Task<Bool, Never>
            if let arrival = w.arrivals.removeValue(forKey: entry.outputID) {
                // Packed in a segment: wait for the read to store it, else read it on its own.
                task = Task.detached { [self] in
                    await arrival.wait()
                    if local.hasBlob(entry.outputID) { return true }
                    return await self.downloadOrForget(entry, into: local)
                }
                w.downloads[entry.outputID] = task
                return (task, w.gates.removeValue(forKey: entry.outputID))
            }
            task = Task.detached { [self] in await self.downloadOrForget(entry, into: local) }
            w.downloads[entry.outputID] = task
            return (task, nil)
        }
        gate?.open()
        return task
    }

    func download(_ entry: ActionEntry, into local: LocalStore) async -> Bool {
        if local.hasBlob(entry.outputID) { return true }
        if Task.isCancelled { return false }
        // The empty output needs no round trip: its content is known.
        if entry.outputID == .empty, entry.size == 0 { return (try? local.publish(bytes: [])) != nil }
        guard let temp = try? local.makeTempFile(for: entry.outputID) else { return false }
        close(temp.fd)
        let got = await guarded("read blob \(entry.outputID)") {
            try await store.readBlobHashed(entry.outputID, size: entry.size, into: temp.path)
        }
        guard let got, let hash = got else {
            unlink(temp.path)
            return false
        }
        let (digest, size) = (hash.digest, hash.size)
        guard digest == entry.outputID, size == entry.size else {
            unlink(temp.path)
            statistics.update { $0.corruptBlobs += 1 }
            if !announcedCorruption.exchange(true, ordering: .relaxed) {
                logger.warning(
                    "remote \(store.name) served blob \(entry.outputID) with the wrong content; treated as a miss (further ones are counted, not logged)"
                )
            } else {
                logger.debug("remote \(store.name) served blob \(entry.outputID) with the wrong content")
            }
            return false
        }
        statistics.update { $0.bytesDown += size }
        do {
            try local.publish(temp: temp.path, digest: digest, size: size, actionID: nil, time: entry.time)
            return true
        } catch {
            unlink(temp.path)
            return false
        }
    }

    /// Stops prefetching, queues the warm manifest's upload (read-write mode), stops
    /// accepting uploads and waits up to `timeout` for queued ones to finish.
    /// Returns how many were still pending when the time ran out.
    public func drain(timeout: Duration) async -> Int {
        stopPrefetching()
        enqueueManifest(segmentDeadline: .now + min(timeout / 2, segmentTimeLimit ?? timeout))
        let consumer: Task<Void, Never>? = uploads.withLock { u in
            u.continuation?.finish()
            u.continuation = nil
            return u.consumer
        }
        guard let consumer else { return 0 }
        // nil when every upload finished in time, else how many were pending at the deadline.
        let left: Int? = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await consumer.value
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let finished = await group.next() ?? false
            var left: Int? = nil
            if !finished {
                // Cancelled uploads end, so the wait for the consumer's task ends too.
                left = uploads.withLock { $0.pending }
                consumer.cancel()
            }
            group.cancelAll()
            return left
        }
        guard let left else { return 0 }
        statistics.update { $0.uploadsDropped += left }
        return left
    }
}
