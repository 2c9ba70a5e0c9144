import Synchronization

/// The root of the helper's background work: one task group that lives as long as the
/// remote tier (and so the server), and runs every get that waits for the remote, every
/// download, the prefetcher, the manifest's loading and the upload queue as its children.
///
/// Work is handed in with `spawn`; work in a `Scope` can be cancelled together (close stops
/// the prefetch scope at once, and the upload scope when its deadline passes) while the rest
/// runs on. Releasing the owner ends the group once its children have finished.
package final class BackgroundTasks: Sendable {
    private struct Job: Sendable {
        var scope: Scope?
        var body: @Sendable () async -> Void
    }

    private let jobs: AsyncStream<Job>.Continuation

    /// Starts the root group. Its one unstructured task is the root itself: the synchronous
    /// request loop has no task to make the group a child of.
    package init() {
        let (stream, jobs) = AsyncStream<Job>.makeStream()
        self.jobs = jobs
        Task.detached {
            await withDiscardingTaskGroup { group in
                for await job in stream {
                    group.addTask {
                        if let scope = job.scope {
                            await scope.run(job.body)
                        } else {
                            await job.body()
                        }
                    }
                }
            }
        }
    }

    deinit {
        jobs.finish()
    }

    /// Runs `body` as a child of the root group, in `scope` if one is given (a child spawned
    /// in a cancelled scope starts cancelled). False, without running it, once the group has
    /// ended.
    @discardableResult
    package func spawn(in scope: Scope? = nil, _ body: @escaping @Sendable () async -> Void) -> Bool {
        if case .enqueued = jobs.yield(Job(scope: scope, body: body)) { return true }
        return false
    }

    /// Children that are cancelled together.
    package final class Scope: Sendable {
        private struct State: ~Copyable {
            var cancelled = false
            var next = 0
            var running: [Int: RunningTask] = [:]
        }

        /// A running child's task, held only while that child runs (it deregisters before it
        /// ends, under the same lock `cancel` holds), so cancelling it is safe.
        private struct RunningTask: @unchecked Sendable {
            var task: UnsafeCurrentTask
        }

        private let state = Mutex(State())

        package init() {}

        /// Whether `cancel()` was called.
        package var isCancelled: Bool { state.withLock { $0.cancelled } }

        /// Cancels every child running in the scope, and those spawned in it later.
        package func cancel() {
            state.withLock { s in
                s.cancelled = true
                for r in s.running.values { r.task.cancel() }
            }
        }

        fileprivate func run(_ body: @Sendable () async -> Void) async {
            let id: Int? = withUnsafeCurrentTask { task in
                guard let task else { return nil }
                return state.withLock { s in
                    if s.cancelled {
                        task.cancel()
                        return nil
                    }
                    s.next += 1
                    s.running[s.next] = RunningTask(task: task)
                    return s.next
                }
            }
            await body()
            if let id { state.withLock { _ = $0.running.removeValue(forKey: id) } }
        }
    }
}
