public import Foundation
import Synchronization

/// A command started by a test, whose output is collected as it comes and whose end is an
/// event to await: its pipes are read on threads of their own and its exit arrives through
/// `Process.terminationHandler`, so awaiting it holds no thread of the concurrency pool
/// (where in-process servers and clients of other tests run).
public final class RunningProcess: @unchecked Sendable {
    /// The process (to signal it; do not wait on it directly).
    public let process: Process
    private let shared = Shared()

    /// What the pipe readers and the termination handler share with the waiters.
    fileprivate final class Shared: Sendable {
        let state = Mutex(State())
    }

    fileprivate struct State {
        var stdout = Data()
        var stderr = Data()
        var openPipes = 2
        var status: Int32?
        var waiters: [Waiter] = []
        var finished: Bool { openPipes == 0 && status != nil }
    }

    /// A task waiting for stderr to show something (`predicate`), or for the end (nil).
    fileprivate struct Waiter {
        var predicate: (@Sendable (String) -> Bool)?
        var continuation: CheckedContinuation<Bool, Never>
    }

    /// Starts `arguments` (the first is the executable) with `environment` added to this
    /// process's environment (less the variables in `removing`), in `directory`, with
    /// `stdin` as its input.
    public init(
        _ arguments: [String], environment: [String: String] = [:], directory: String? = nil,
        removing: [String] = [], stdin: Data? = nil
    ) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        var env = ProcessInfo.processInfo.environment
        for key in removing { env[key] = nil }
        env.merge(environment) { $1 }
        process.environment = env
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        self.process = process
        let shared = shared
        process.terminationHandler = { p in
            let status = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
            shared.update { $0.status = status }
        }
        try process.run()
        let writer = input.fileHandleForWriting
        Thread.detachNewThread {
            if let stdin { writer.write(stdin) }
            try? writer.close()
        }
        for (pipe, isOut) in [(out, true), (err, false)] {
            let handle = pipe.fileHandleForReading
            Thread.detachNewThread {
                while true {
                    let chunk = handle.availableData
                    shared.update { s in
                        if chunk.isEmpty {
                            s.openPipes -= 1
                        } else if isOut {
                            s.stdout.append(chunk)
                        } else {
                            s.stderr.append(chunk)
                        }
                    }
                    if chunk.isEmpty { return }
                }
            }
        }
    }

}

extension RunningProcess.Shared {
    /// Applies `change`, then wakes the waiters it satisfied.
    func update(_ change: (inout RunningProcess.State) -> Void) {
        let ready: [(CheckedContinuation<Bool, Never>, Bool)] = state.withLock { s in
            change(&s)
            let text = s.waiters.contains { $0.predicate != nil } ? String(decoding: s.stderr, as: UTF8.self) : ""
            var ready: [(CheckedContinuation<Bool, Never>, Bool)] = []
            let finished = s.finished
            s.waiters.removeAll { w in
                if let predicate = w.predicate, predicate(text) {
                    ready.append((w.continuation, true))
                    return true
                }
                if finished {
                    ready.append((w.continuation, w.predicate == nil))
                    return true
                }
                return false
            }
            return ready
        }
        for (continuation, value) in ready { continuation.resume(returning: value) }
    }
}

extension RunningProcess {
    /// Waits until stderr so far satisfies `predicate` (true), or the process ended and
    /// its output is read without it doing so (false).
    public func waitForStderr(where predicate: @escaping @Sendable (String) -> Bool) async -> Bool {
        await withCheckedContinuation { continuation in
            let now: Bool? = shared.state.withLock { s in
                if predicate(String(decoding: s.stderr, as: UTF8.self)) { return true }
                if s.finished { return false }
                s.waiters.append(Waiter(predicate: predicate, continuation: continuation))
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    /// Whether the process has not exited yet.
    public var isRunning: Bool { shared.state.withLock { $0.status == nil } }

    /// Waits for the process to exit and its output to end, and returns what it did.
    public func result() async -> ProcessRunner.Result {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let done = shared.state.withLock { s in
                if s.finished { return true }
                s.waiters.append(Waiter(predicate: nil, continuation: continuation))
                return false
            }
            if done { continuation.resume(returning: true) }
        }
        return shared.state.withLock { s in
            ProcessRunner.Result(
                status: s.status ?? -1, stdout: String(decoding: s.stdout, as: UTF8.self),
                stderr: String(decoding: s.stderr, as: UTF8.self))
        }
    }
}
