import Synchronization

/// The one-shot result of work running in the background (a blob's download, the warm
/// manifest's loading): any number of tasks wait for it, and it is set once by the work.
/// It replaces awaiting a `Task` handle, so the work itself can be a child of the root task
/// group (`BackgroundTasks`) instead of an unstructured task.
package final class Flight<Value: Sendable>: Sendable {
    private struct State: ~Copyable {
        var value: Value?
        var waiters: [CheckedContinuation<Value, Never>] = []
    }

    private let state = Mutex(State())

    package init() {}

    /// A flight that has already landed with `value`.
    package init(landed value: Value) {
        state.withLock { $0.value = value }
    }

    /// The value, once the work has set it.
    package var value: Value {
        get async {
            if let value = state.withLock({ $0.value }) { return value }
            return await withCheckedContinuation { (c: CheckedContinuation<Value, Never>) in
                let ready = state.withLock { s -> Value? in
                    if let value = s.value { return value }
                    s.waiters.append(c)
                    return nil
                }
                if let ready { c.resume(returning: ready) }
            }
        }
    }

    /// The value if it has been set.
    package var landed: Value? { state.withLock { $0.value } }

    /// Sets the value (a second call is ignored) and resumes every waiter.
    package func land(_ value: Value) {
        let waiters = state.withLock { s -> [CheckedContinuation<Value, Never>] in
            guard s.value == nil else { return [] }
            s.value = value
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume(returning: value) }
    }
}
