import Synchronization

/// The upload queue: puts (and, at close, the warm manifest) uploaded in the background, at
/// most `maxConcurrent` at a time, blob before action entry. Its consumer is a child of the
/// root task group; `drain` ends it within close's budget.
package final class UploadQueue: Sendable {
    private struct State: ~Copyable {
        var continuation: AsyncStream<Upload>.Continuation?
        var pending = 0
    }

    private let remote: GuardedRemote
    private let manifests: ManifestWriter
    private let maxConcurrent: Int
    private let state = Mutex(State())
    /// Cancelled when close's deadline passes.
    private let scope = BackgroundTasks.Scope()
    /// Lands when the consumer has finished.
    private let consumed = Flight<Bool>()

    /// A queue of up to `maxQueued` uploads, consumed in `tasks` when `enabled` (read-write
    /// mode); otherwise it takes nothing.
    package init(
        remote: GuardedRemote, manifests: ManifestWriter, tasks: BackgroundTasks, maxConcurrent: Int, maxQueued: Int,
        enabled: Bool
    ) {
        self.remote = remote
        self.manifests = manifests
        self.maxConcurrent = maxConcurrent
        guard enabled else {
            consumed.land(true)
            return
        }
        let (stream, continuation) = AsyncStream<Upload>.makeStream(bufferingPolicy: .bufferingOldest(maxQueued))
        state.withLock { $0.continuation = continuation }
        let consumed = self.consumed
        let started = tasks.spawn(in: scope) { [self] in
            await self.consume(stream)
            consumed.land(true)
        }
        if !started { consumed.land(true) }
    }

    /// Queues `upload`; one that does not fit (or comes after `drain`) is counted as dropped.
    package func enqueue(_ upload: Upload) {
        let accepted: Bool = state.withLock { u in
            guard let c = u.continuation else { return false }
            if case .enqueued = c.yield(upload) {
                u.pending += 1
                return true
            }
            return false
        }
        if !accepted { remote.statistics.add(.uploadsDropped) }
    }

    /// Stops taking uploads and waits up to `timeout` for the queued ones; returns how many
    /// were still pending when the time ran out (they are cancelled, counted as dropped).
    package func drain(timeout: Duration) async -> Int {
        state.withLock { u in
            u.continuation?.finish()
            u.continuation = nil
        }
        // nil when every upload finished in time, else how many were pending at the deadline.
        let left: Int? = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.consumed.value }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let finished = await group.next() ?? false
            var left: Int? = nil
            if !finished {
                // Cancelled uploads end, so the wait for the consumer ends too.
                left = state.withLock { $0.pending }
                scope.cancel()
            }
            group.cancelAll()
            return left
        }
        guard let left else { return 0 }
        remote.statistics.add(.uploadsDropped, Int64(left))
        return left
    }

    private func consume(_ stream: AsyncStream<Upload>) async {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for await upload in stream {
                if running >= maxConcurrent {
                    await group.next()
                    running -= 1
                }
                group.addTask { [self] in
                    await self.perform(upload)
                    self.state.withLock { $0.pending -= 1 }
                }
                running += 1
            }
        }
    }

    private func perform(_ upload: Upload) async {
        // Uploads cancelled by close's deadline are counted by `drain`.
        if Task.isCancelled { return }
        switch upload {
        case .blob(let actionID, let entry, let path):
            await uploadBlob(actionID: actionID, entry: entry, path: path)
        case .manifest(let manifest):
            if let written = await manifests.write(manifest) {
                await uploadBlob(
                    actionID: manifest.actionID, entry: written.entry, path: written.path, attaching: written.attached)
            }
        }
    }

    /// Uploads the blob unless the remote holds it, then records its entry, carrying
    /// `attached` blobs inside it where the store allows.
    private func uploadBlob(actionID: Digest, entry: ActionEntry, path: String, attaching attached: [AttachedBlob] = [])
        async
    {
        let statistics = remote.statistics
        let store = remote.store
        let ok = await remote.run("upload \(entry.outputID)") { () async throws -> Bool in
            if try await store.writeBlobIfMissing(entry.outputID, size: entry.size, from: path) {
                statistics.update {
                    $0[.uploads] += 1
                    $0[.bytesUp] += entry.size
                }
            } else {
                statistics.add(.uploadsSkipped)
            }
            try await store.record(entry, for: actionID, attaching: attached)
            return true
        }
        if ok != true && !Task.isCancelled { statistics.add(.uploadsDropped) }
    }
}
