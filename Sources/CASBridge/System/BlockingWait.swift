import Dispatch

/// Runs `operation` on the concurrency pool and blocks the calling thread until it
/// finishes. For the synchronous entry points only (the request loop's close, the CLI
/// commands): they run on a thread outside the pool with no task to await from, so one
/// short-lived unstructured task is the bridge; it finishes before this returns, so it
/// outlives nothing. Never call it from a task. Background work is not started here but in
/// the remote tier's root task group (`BackgroundTasks`).
package func waitForTask<T: Sendable>(_ operation: @escaping @Sendable () async -> T) -> T {
    let semaphore = DispatchSemaphore(value: 0)
    let box = ResultBox<T>()
    Task.detached {
        box.value = await operation()
        semaphore.signal()
    }
    semaphore.wait()
    return box.value!
}

/// Runs blocking `work` (compression, hashing, file I/O) on a Dispatch thread and awaits
/// its result, so that it does not hold one of the concurrency pool's threads.
package func runOffPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try work() })
        }
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    // Written once before the semaphore is signalled and read after it is waited for.
    var value: T?
}
