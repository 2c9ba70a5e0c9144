extension WarmManifest {
    /// New segments are closed before they would grow past this size.
    public static let segmentTarget: Int64 = 4 << 20
    /// Outputs up to this size are packed into segments; larger ones are read on their own.
    public static let maxPackedSize: Int64 = 1 << 20
    /// A manifest up to this size travels inside its own action entry, with the first outputs.
    public static let attachedLimit = 1 << 20
    /// At most this many bytes of the first outputs travel inside the manifest's entry.
    public static let attachedHeadBytes: Int64 = 512 << 10

    /// A run's next manifest, with the segments still to be written.
    public struct Plan: Sendable {
        /// A segment to write: its index in `manifest.segments` (whose digest and size are
        /// placeholders until it is written) and the outputs it holds, in order.
        public struct Pending: Sendable {
            /// The segment's index in the planned manifest.
            public var index: Int
            /// The outputs, back to back from offset 0.
            public var pieces: [ActionEntry]
        }

        /// The manifest to write once the pending segments are stored.
        public var manifest: WarmManifest
        /// The segments to write first.
        public var pending: [Pending]
        /// Whether the pending segments are to be stored compressed.
        public var compressing = false
        /// What the plan was made from: the records this run used and the manifest it loaded.
        var used: [Record] = []
        var older: WarmManifest?

        /// The same run's plan for segments stored compressed or not.
        public func compressing(_ compress: Bool) -> Plan {
            compress == compressing ? self : WarmManifest.plan(used: used, older: older, compressing: compress)
        }
    }

    /// Plans the manifest that follows `older` after a run that used `used`: this run's
    /// records first (age 0), then `older`'s that it did not use, one write older, unless
    /// that makes them older than `maxAge`; `older`'s segments kept while at
    /// least half of their bytes belong to the new manifest's records; this run's outputs
    /// of up to `maxPackedSize` not in a kept segment packed into new segments of about
    /// `segmentTarget` bytes (at least two outputs each). Segments are numbered in the
    /// order the records first refer to them.
    ///
    /// With `compressing` (the segments will be stored compressed, for a store that carries
    /// blobs plain), every output is packed whatever its size, and a large one may fill a
    /// segment alone: its compressed copy is what the next run reads.
    public static func plan(used: [Record], older: WarmManifest?, compressing: Bool = false) -> Plan {
        let packedLimit = compressing ? Int64.max : maxPackedSize
        let olderByAction = Dictionary(
            (older?.records ?? []).map { ($0.actionID, $0) }, uniquingKeysWith: { first, _ in first })
        var combined = used.map { r -> Record in
            var r = r
            let previous = olderByAction[r.actionID]
            r.placement = previous?.entry == r.entry ? previous?.placement : nil
            r.age = 0
            return r
        }
        for var r in older?.records ?? [] where r.age < maxAge {
            r.age += 1
            combined.append(r)
        }
        var records = WarmManifest(combined).records
        let usedIDs = Set(used.map(\.actionID))

        // Keep older segments that are still mostly live.
        let oldSegments = older?.segments ?? []
        var live = [Int64](repeating: 0, count: oldSegments.count)
        var counted = Set<Placement>()
        for r in records {
            // Saturating: the older manifest came from the remote, its sizes are only known to fit their segments.
            if let p = r.placement, counted.insert(p).inserted {
                let (sum, overflow) = live[p.segment].addingReportingOverflow(r.entry.size)
                live[p.segment] = overflow ? Int64.max : sum
            }
        }
        let kept = oldSegments.indices.map { live[$0] >= oldSegments[$0].contentSize - live[$0] }

        // Segment keys: kept old ones by their old index, new ones after them.
        enum Key: Hashable {
            case old(Int)
            case new(Int)
        }
        var placed: [Digest: (Key, Int64)] = [:]
        var keys = [Key?](repeating: nil, count: records.count)
        var offsets = [Int64](repeating: 0, count: records.count)
        for (i, r) in records.enumerated() {
            guard let p = r.placement, kept[p.segment] else { continue }
            keys[i] = .old(p.segment)
            offsets[i] = p.offset
            placed[r.entry.outputID] = placed[r.entry.outputID] ?? (.old(p.segment), p.offset)
        }
        var newPieces: [[ActionEntry]] = []
        var openSize: Int64 = 0
        for (i, r) in records.enumerated() where keys[i] == nil {
            if let (key, offset) = placed[r.entry.outputID] {
                keys[i] = key
                offsets[i] = offset
                continue
            }
            guard usedIDs.contains(r.actionID), r.entry.size > 0, r.entry.size <= packedLimit else { continue }
            if newPieces.isEmpty || r.entry.size > segmentTarget - openSize {
                newPieces.append([])
                openSize = 0
            }
            newPieces[newPieces.count - 1].append(r.entry)
            keys[i] = .new(newPieces.count - 1)
            offsets[i] = openSize
            placed[r.entry.outputID] = (.new(newPieces.count - 1), openSize)
            openSize += r.entry.size
        }

        // Number the segments in the order of first reference; drop one-output segments.
        var index: [Key: Int] = [:]
        var segments: [Segment] = []
        var pending: [Plan.Pending] = []
        for i in records.indices {
            guard let key = keys[i] else {
                records[i].placement = nil
                continue
            }
            if case .new(let n) = key, newPieces[n].count < 2, !compressing || newPieces[n][0].size <= maxPackedSize {
                records[i].placement = nil
                continue
            }
            let number: Int
            if let known = index[key] {
                number = known
            } else {
                number = segments.count
                index[key] = number
                switch key {
                case .old(let o):
                    segments.append(oldSegments[o])
                case .new(let n):
                    segments.append(Segment(digest: .empty, size: newPieces[n].reduce(0) { $0 + $1.size }))
                    pending.append(Plan.Pending(index: number, pieces: newPieces[n]))
                }
            }
            records[i].placement = Placement(segment: number, offset: offsets[i])
        }
        var result = Plan(manifest: WarmManifest(records, segments: segments), pending: pending)
        result.compressing = compressing
        result.used = used
        result.older = older
        return result
    }

    /// The manifest without the segments at `indices`: their records lose their placement
    /// and the remaining segments are renumbered.
    public func removingSegments(_ indices: Set<Int>) -> WarmManifest {
        guard !indices.isEmpty else { return self }
        var renumbered: [Int?] = []
        var segments: [Segment] = []
        for (i, s) in self.segments.enumerated() {
            if indices.contains(i) {
                renumbered.append(nil)
            } else {
                renumbered.append(segments.count)
                segments.append(s)
            }
        }
        let records = self.records.map { r -> Record in
            var r = r
            if let p = r.placement {
                r.placement = renumbered[p.segment].map { Placement(segment: $0, offset: p.offset) }
            }
            return r
        }
        return WarmManifest(records, segments: segments)
    }
}
