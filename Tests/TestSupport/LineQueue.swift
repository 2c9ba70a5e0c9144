import Foundation
import Synchronization

/// The lines of a helper's stdout as they arrive, and its exit status, for tasks to await:
/// a reader thread appends, `HelperProcess` takes.
final class LineQueue: Sendable {
    private let state = Mutex(State())

    private struct State {
        var pending = Data()
        var lines: [String] = []
        var ended = false
        var status: Int32?
        var lineWaiter: CheckedContinuation<String?, Never>?
        var exitWaiters: [CheckedContinuation<Int32, Never>] = []
    }

    /// Takes bytes read from stdout; an empty chunk is the end of output.
    func append(_ chunk: Data) {
        let wake: (CheckedContinuation<String?, Never>, String?)? = state.withLock { s in
            if chunk.isEmpty {
                if !s.pending.isEmpty { s.lines.append(String(decoding: s.pending, as: UTF8.self)) }
                s.pending = Data()
                s.ended = true
            } else {
                s.pending.append(chunk)
                while let nl = s.pending.firstIndex(of: 0x0A) {
                    s.lines.append(String(decoding: s.pending[s.pending.startIndex..<nl], as: UTF8.self))
                    s.pending = Data(s.pending[(nl + 1)...])
                }
            }
            guard let waiter = s.lineWaiter, !s.lines.isEmpty || s.ended else { return nil }
            s.lineWaiter = nil
            return (waiter, s.lines.isEmpty ? nil : s.lines.removeFirst())
        }
        if let (waiter, line) = wake { waiter.resume(returning: line) }
    }

    /// The next line; nil once output ended and every line was taken. One reader at a time.
    func next() async -> String? {
        await withCheckedContinuation { continuation in
            let now: String?? = state.withLock { s in
                if !s.lines.isEmpty { return .some(s.lines.removeFirst()) }
                if s.ended { return .some(nil) }
                s.lineWaiter = continuation
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    /// Records the exit status and wakes those waiting for it.
    func exited(_ status: Int32) {
        let waiters = state.withLock { s in
            s.status = status
            defer { s.exitWaiters = [] }
            return s.exitWaiters
        }
        for waiter in waiters { waiter.resume(returning: status) }
    }

    /// The exit status, once the process exited.
    func exitStatus() async -> Int32 {
        await withCheckedContinuation { continuation in
            let now: Int32? = state.withLock { s in
                if let status = s.status { return status }
                s.exitWaiters.append(continuation)
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }
}
