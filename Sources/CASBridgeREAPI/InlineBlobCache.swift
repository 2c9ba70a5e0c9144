import CASBridge
import FoundationEssentials
import Synchronization

/// Output contents a server inlined in a `GetActionResult` answer, kept until the
/// following `readBlob` of the same digest takes them (one round trip per hit).
/// Bounded: when full, new contents are dropped and the blob is read the usual way.
final class InlineBlobCache: Sendable {
    private struct State {
        var blobs: [Digest: Data] = [:]
        var bytes = 0
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Keeps `data` as the content of `digest` if there is room.
    func put(_ digest: Digest, _ data: Data) {
        state.withLock { s in
            guard s.blobs[digest] == nil, s.bytes + data.count <= capacity else { return }
            s.blobs[digest] = data
            s.bytes += data.count
        }
    }

    /// Removes and returns the contents kept for `digest`.
    func take(_ digest: Digest) -> Data? {
        state.withLock { s in
            guard let data = s.blobs.removeValue(forKey: digest) else { return nil }
            s.bytes -= data.count
            return data
        }
    }
}
