import Synchronization

/// A one-shot gate: tasks wait until it is opened, once, by the prefetcher reaching the
/// download behind it or by a get that needs that download now.
final class PrefetchGate: Sendable {
    private struct State: ~Copyable {
        var isOpen = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Whether the gate has been opened.
    var isOpen: Bool { state.withLock { $0.isOpen } }

    /// Returns once the gate is open.
    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { s in
                if s.isOpen { return true }
                s.waiters.append(c)
                return false
            }
            if resumeNow { c.resume() }
        }
    }

    /// Opens the gate (again is a no-op) and lets every waiter through.
    func open() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            guard !s.isOpen else { return [] }
            s.isOpen = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }
}
