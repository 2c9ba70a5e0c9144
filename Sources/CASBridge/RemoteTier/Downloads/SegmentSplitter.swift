import Glibc

/// Takes a segment's bytes as they arrive and stores the outputs it was asked for in the
/// local store, each received by a `BlobReceiver` of its own: a damaged piece is counted
/// and dropped, never published.
///
/// Used by one read at a time (the store's delivering thread); `finish()` afterwards.
final class SegmentSplitter: BlobSink, @unchecked Sendable {
    /// An output at `offset` in the segment.
    struct Piece: Sendable {
        var offset: Int64
        var entry: ActionEntry
    }

    private let local: LocalStore
    private let onPublished: @Sendable (Digest) -> Void
    private let pieces: [Piece]
    private var next = 0
    private var position: Int64 = 0
    private var current: BlobReceiver?
    private var done = Set<Digest>()

    /// Outputs published so far.
    private(set) var published: [Digest] = []
    /// Their bytes.
    private(set) var publishedBytes: Int64 = 0
    /// Outputs whose bytes did not hash to their OutputID.
    private(set) var corrupt: [Digest] = []

    /// Creates a splitter of `pieces` (sorted by offset; overlapping ones and repeats dropped)
    /// that calls `published` with each output as soon as it is in the local store.
    init(pieces: [Piece], local: LocalStore, published: @escaping @Sendable (Digest) -> Void = { _ in }) {
        var kept: [Piece] = []
        var end: Int64 = 0
        var seen = Set<Digest>()
        for p in pieces.sorted(by: { $0.offset < $1.offset })
        where p.offset >= end && p.entry.size > 0 && seen.insert(p.entry.outputID).inserted {
            kept.append(p)
            end = p.offset + p.entry.size
        }
        self.pieces = kept
        self.local = local
        onPublished = published
    }

    func restart() throws {
        discardCurrent()
        next = 0
        position = 0
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes
        while !rest.isEmpty {
            guard next < pieces.count else { return }
            let piece = pieces[next]
            if position < piece.offset {
                let skip = Int(min(Int64(rest.count), piece.offset - position))
                rest = UnsafeRawBufferPointer(rebasing: rest[skip...])
                position += Int64(skip)
                continue
            }
            let take = Int(min(Int64(rest.count), piece.offset + piece.entry.size - position))
            let chunk = UnsafeRawBufferPointer(rebasing: rest[..<take])
            if !done.contains(piece.entry.outputID) {
                if position == piece.offset {
                    current = try BlobReceiver(into: local, expecting: piece.entry.outputID)
                }
                try current?.write(chunk)
            }
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
            position += Int64(take)
            if position == piece.offset + piece.entry.size {
                try finishPiece(piece)
                next += 1
            }
        }
    }

    /// Removes a partly written piece (the segment ended early or failed).
    func finish() {
        discardCurrent()
    }

    private func finishPiece(_ piece: Piece) throws {
        guard let receiver = current.take() else { return }
        let entry = piece.entry
        guard case .published = try receiver.publish(as: entry.outputID, size: entry.size, time: entry.time) else {
            corrupt.append(entry.outputID)
            return
        }
        done.insert(entry.outputID)
        published.append(entry.outputID)
        publishedBytes += entry.size
        onPublished(entry.outputID)
    }

    private func discardCurrent() {
        current.take()?.discard()
    }
}
