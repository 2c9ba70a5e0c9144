import Glibc
import Synchronization

/// The one writer of the helper's stdout: responses are queued whole and written as
/// whole lines, never interleaved, by whichever thread flushes.
package final class ResponseWriter: Sendable {
    private struct Pending: ~Copyable {
        var buffer: [UInt8] = []
        var failed = false
    }

    private let fd: Int32
    private let pending = Mutex(Pending())

    /// Creates a writer over `fd`.
    package init(fd: Int32) {
        self.fd = fd
    }

    /// Queues a response; it is written at the next `flush`.
    package func enqueue(_ response: ProgResponse) {
        pending.withLock { response.encode(into: &$0.buffer) }
    }

    /// Queues a response and writes everything queued.
    package func send(_ response: ProgResponse) {
        pending.withLock { p in
            response.encode(into: &p.buffer)
            write(&p)
        }
    }

    /// Writes everything queued.
    package func flush() {
        pending.withLock { write(&$0) }
    }

    /// Whether a write to stdout has failed (the go command went away).
    package var failed: Bool { pending.withLock { $0.failed } }

    private func write(_ p: inout Pending) {
        guard !p.buffer.isEmpty else { return }
        defer { p.buffer.removeAll(keepingCapacity: true) }
        guard !p.failed else { return }
        do {
            try FileSystem.writeAll(fd, p.buffer, path: "stdout")
        } catch {
            p.failed = true
        }
    }
}
