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

    struct Upload: Sendable {
        var actionID: Digest
        var entry: ActionEntry
        var path: String
    }

    struct UploadState: ~Copyable {
        var continuation: AsyncStream<Upload>.Continuation?
        var consumer: Task<Void, Never>?
        var pending = 0
    }

    private let uploads: Mutex<UploadState>

    /// Creates a tier over `store`.
    public init(
        store: any CacheStore, mode: RemoteMode, statistics: HelperStatistics, logger: Logger,
        breaker: CircuitBreaker = CircuitBreaker(), maxConcurrentUploads: Int = 4, maxQueuedUploads: Int = 4096
    ) {
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
    /// counted, logged once when the breaker opens, and turned into nil.
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

    /// Looks `actionID` up remotely; on a hit, downloads and verifies the blob into the
    /// local store (unless it is there already) and records the entry locally.
    public func fetch(_ actionID: Digest, into local: LocalStore) async -> LocalStore.Hit? {
        guard let found = await guarded("get action \(actionID)", { try await store.entry(for: actionID) }),
            let entry = found
        else {
            statistics.update { $0.remoteMisses += 1 }
            return nil
        }
        if !local.hasBlob(entry.outputID) {
            guard let temp = try? local.makeTempFile() else { return nil }
            close(temp.fd)
            let got = await guarded("read blob \(entry.outputID)") {
                try await store.readBlob(entry.outputID, size: entry.size, into: temp.path)
            }
            guard got == true else {
                unlink(temp.path)
                statistics.update { $0.remoteMisses += 1 }
                return nil
            }
            guard let (digest, size) = try? FileSystem.hashFile(temp.path),
                digest == entry.outputID, size == entry.size
            else {
                unlink(temp.path)
                statistics.update { $0.corruptBlobs += 1 }
                logger.warning(
                    "remote \(store.name) served blob \(entry.outputID) with the wrong content; treated as a miss")
                return nil
            }
            statistics.update { $0.bytesDown += size }
            do {
                try local.publish(temp: temp.path, digest: digest, size: size, actionID: nil, time: entry.time)
            } catch {
                unlink(temp.path)
                return nil
            }
        }
        do {
            try local.record(entry, for: actionID)
        } catch {
            return nil
        }
        return LocalStore.Hit(entry: entry, path: local.blobPath(entry.outputID))
    }

    /// Queues an upload of a put in the background (read-write mode only).
    public func enqueueUpload(actionID: Digest, entry: ActionEntry, path: String) {
        guard mode == .readwrite else { return }
        let accepted: Bool = uploads.withLock { u in
            guard let c = u.continuation else { return false }
            if case .enqueued = c.yield(Upload(actionID: actionID, entry: entry, path: path)) {
                u.pending += 1
                return true
            }
            return false
        }
        if !accepted { statistics.update { $0.uploadsDropped += 1 } }
    }

    private func runUploads(_ stream: AsyncStream<Upload>) async {
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

    private func upload(_ u: Upload) async {
        if Task.isCancelled {
            statistics.update { $0.uploadsDropped += 1 }
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
            try await store.record(u.entry, for: u.actionID)
            return true
        }
        if ok != true { statistics.update { $0.uploadsDropped += 1 } }
    }

    /// Stops accepting uploads and waits up to `timeout` for queued ones to finish.
    /// Returns how many were still pending when the time ran out.
    public func drain(timeout: Duration) async -> Int {
        let consumer: Task<Void, Never>? = uploads.withLock { u in
            u.continuation?.finish()
            u.continuation = nil
            return u.consumer
        }
        guard let consumer else { return 0 }
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await consumer.value
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if finished { return 0 }
        consumer.cancel()
        let left = uploads.withLock { $0.pending }
        statistics.update { $0.uploadsDropped += left }
        return left
    }
}
