import Synchronization

/// Small blobs that travel inside action entries (REAPI's `OutputFile.contents`), so that a
/// remote hit costs one request instead of two. Every backend keeps one: it remembers the
/// small blobs this process wrote, for inlining in the `record` that follows, and the
/// contents that arrived inline with an entry, for the `readBlob` that follows. Both sides are
/// bounded; what does not fit is simply read or written the usual way. Inlined bytes are
/// verified like any download: the `BlobReceiver` a read delivers them to hashes them.
package final class InlineBlobs: Sendable {
    /// Blobs up to this size are inlined (the blob itself is still stored on its own).
    package static let limit: Int64 = 64 * 1024

    private struct State {
        var written: [Digest: String] = [:]
        var received: [Digest: [UInt8]] = [:]
        var receivedBytes = 0
    }

    private let state = Mutex(State())
    /// At most this many written paths are remembered.
    private let writtenCapacity = 4096
    /// At most this many bytes of received contents are kept.
    private let receivedCapacity: Int

    package init(receivedCapacity: Int = 16 << 20) {
        self.receivedCapacity = receivedCapacity
    }

    /// Notes that blob `digest` was stored from `path`, for inlining when it is recorded.
    package func noteWritten(_ digest: Digest, size: Int64, path: String) {
        guard size > 0, size <= Self.limit else { return }
        state.withLock { s in
            if s.written.count >= writtenCapacity { s.written.removeAll() }
            s.written[digest] = path
        }
    }

    /// The ActionResult bytes for `entry`: with the output's contents inlined when this
    /// process wrote that blob and its file still holds exactly it, plain otherwise.
    package func actionResult(for entry: ActionEntry) -> [UInt8] {
        if let path = state.withLock({ $0.written.removeValue(forKey: entry.outputID) }),
            let contents = try? FileSystem.readFile(path), Int64(contents.count) == entry.size,
            SHA256.hash(contents) == entry.outputID
        {
            return ActionMapping.actionResult(for: entry, inlining: contents)
        }
        return ActionMapping.actionResult(for: entry)
    }

    /// Keeps the contents inlined in `actionResult` (the encoded entry `entry`) if there
    /// are any of the entry's size and there is room.
    package func noteReceived(_ entry: ActionEntry, in actionResult: [UInt8]) {
        guard entry.size > 0, entry.size <= Self.limit,
            let bytes = ActionMapping.inlineContents(fromActionResult: actionResult)
        else { return }
        keep(entry.outputID, bytes, size: entry.size)
    }

    /// Keeps `bytes` as the contents of `digest` if they have its size and there is room.
    package func keep(_ digest: Digest, _ bytes: [UInt8], size: Int64) {
        guard Int64(bytes.count) == size, size > 0 else { return }
        state.withLock { s in
            guard s.received[digest] == nil, s.receivedBytes + bytes.count <= receivedCapacity else { return }
            s.received[digest] = bytes
            s.receivedBytes += bytes.count
        }
    }

    /// Writes the contents received for `digest` (of `size` bytes) to `sink`, as a read of the
    /// blob would; whether any were received.
    package func read(_ digest: Digest, size: Int64, to sink: any BlobSink) throws -> Bool {
        guard let bytes = take(digest, size: size) else { return false }
        try sink.restart()
        try bytes.withUnsafeBytes { try sink.write($0) }
        return true
    }

    /// Removes and returns the contents received for `digest`, if they have `size` bytes.
    package func take(_ digest: Digest, size: Int64) -> [UInt8]? {
        state.withLock { s in
            guard let bytes = s.received.removeValue(forKey: digest) else { return nil }
            s.receivedBytes -= bytes.count
            return Int64(bytes.count) == size ? bytes : nil
        }
    }
}
