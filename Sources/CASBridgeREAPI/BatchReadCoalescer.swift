import CASBridge
import FoundationEssentials
import Synchronization

/// Joins concurrent reads of small blobs into shared BatchReadBlobs calls.
///
/// A read joins a queue; while fewer than `maxInFlight` batches are on the wire it is sent
/// at once with whatever else is queued, otherwise it waits for the next batch to leave.
/// There are no timers: a lone read costs one call as before, and batches grow with the
/// number of concurrent reads (a warm-manifest prefetch keeps 32 in flight), so a server
/// answers a few dozen calls instead of a thousand.
final class BatchReadCoalescer: Sendable {
    /// One blob's answer: its bytes, nil when the server does not hold it, or an error.
    typealias Answer = Result<Data?, CASError>
    /// Sends one batch call for the blobs (digest, size) and answers each digest.
    typealias Send = @Sendable ([(digest: Digest, size: Int64)]) async throws -> [Digest: Answer]

    private struct Waiter {
        var digest: Digest
        var size: Int64
        var continuation: CheckedContinuation<Data?, any Error>
    }

    private struct State {
        var queue: [Waiter] = []
        var inFlight = 0
    }

    private let state = Mutex(State())
    /// How many batch calls may be on the wire at once: enough that a far server's round
    /// trips overlap (each call waits one), few enough that calls still gather many blobs.
    let maxInFlight: Int
    /// The most blobs one call asks for.
    let maxBlobs: Int

    /// Creates a coalescer.
    init(maxInFlight: Int = 8, maxBlobs: Int = 256) {
        self.maxInFlight = max(1, maxInFlight)
        self.maxBlobs = max(1, maxBlobs)
    }

    /// Reads blob `digest` of `size` bytes in a batch of at most `limit` bytes sent with
    /// `send`; returns nil if the server does not hold it.
    func read(_ digest: Digest, size: Int64, limit: Int64, send: @escaping Send) async throws -> Data? {
        try await withCheckedThrowingContinuation { continuation in
            let batch: [Waiter]? = state.withLock { s in
                s.queue.append(Waiter(digest: digest, size: size, continuation: continuation))
                guard s.inFlight < maxInFlight else { return nil }
                s.inFlight += 1
                return take(&s, limit: limit)
            }
            if let batch {
                Task { await self.run(batch, limit: limit, send: send) }
            }
        }
    }

    /// Takes queued reads from the front while they fit one call (always at least one).
    private func take(_ s: inout State, limit: Int64) -> [Waiter] {
        var total: Int64 = 0
        var count = 0
        for waiter in s.queue {
            // Each blob costs its bytes plus a digest and status in the response.
            let cost = waiter.size + 128
            if count > 0 && (count >= maxBlobs || total + cost > limit) { break }
            total += cost
            count += 1
        }
        let batch = Array(s.queue.prefix(count))
        s.queue.removeFirst(count)
        return batch
    }

    /// Sends `first`, then whatever queued meanwhile, until the queue is empty.
    private func run(_ first: [Waiter], limit: Int64, send: @escaping Send) async {
        var batch = first
        while true {
            var unique: [(digest: Digest, size: Int64)] = []
            var seen = Set<Digest>()
            for w in batch where seen.insert(w.digest).inserted { unique.append((w.digest, w.size)) }
            do {
                let answers = try await send(unique)
                for w in batch {
                    switch answers[w.digest] {
                    case .success(let data): w.continuation.resume(returning: data)
                    case .failure(let error): w.continuation.resume(throwing: error)
                    case nil:
                        w.continuation.resume(
                            throwing: CASError(.remote, "grpc: BatchReadBlobs did not answer for \(w.digest)"))
                    }
                }
            } catch {
                for w in batch { w.continuation.resume(throwing: error) }
            }
            let next: [Waiter]? = state.withLock { s in
                if s.queue.isEmpty {
                    s.inFlight -= 1
                    return nil
                }
                return take(&s, limit: limit)
            }
            guard let next else { return }
            batch = next
        }
    }
}
