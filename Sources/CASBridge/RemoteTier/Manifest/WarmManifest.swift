/// The list of action entries one helper run used, in the order the go command asked for
/// them: stored in the remote so that the next run with an empty local store can fetch
/// every blob it will need at once, ahead of the go command's requests.
///
/// Small blobs are also packed into segments: blobs of the store holding the concatenated
/// content of many outputs, so that a run fetches them in a few large reads instead of
/// one request each. Every piece is still verified against its own OutputID.
///
/// Stored as a blob whose entry is recorded under the synthetic ActionID
/// `actionID(named:)`, like any other output, in the `CBGM` format (integers little-endian):
/// - version 3 (written when a segment is stored compressed): as version 2, but 56-byte
///   segments: digest, stored size, content size (both UInt64), encoding as UInt32 (0: plain,
///   1: one zstd frame of the content), 4 zero bytes; offsets are into the content;
/// - version 2 (written otherwise): a 24-byte header (magic `CBGM`, version as UInt32, record
///   count as UInt64, segment count as UInt32, 4 zero bytes), 40-byte segments (digest,
///   size), then 96-byte records: ActionID, OutputID, size, put time in nanoseconds, segment
///   index as UInt32 (`0xFFFFFFFF`: none), age as UInt32 (zero in manifests written before
///   ages were kept), offset in the segment;
/// - version 1 (read): a 16-byte header (magic, version, record count), then 80-byte
///   records without segments.
public struct WarmManifest: Equatable, Sendable {
    /// A blob holding the content of several outputs back to back.
    public struct Segment: Equatable, Hashable, Sendable {
        /// The segment's digest in the store.
        public var digest: Digest
        /// Its length in bytes, as stored.
        public var size: Int64
        /// The length of the outputs it holds back to back: `size` unless compressed.
        public var contentSize: Int64
        /// Whether it is stored as one zstd frame of that content.
        public var compressed: Bool

        /// Creates a segment stored as it is.
        public init(digest: Digest, size: Int64) {
            self.init(digest: digest, size: size, contentSize: size, compressed: false)
        }

        /// Creates a segment; a compressed one holds `contentSize` bytes in its `size`.
        public init(digest: Digest, size: Int64, contentSize: Int64, compressed: Bool) {
            self.digest = digest
            self.size = size
            self.contentSize = contentSize
            self.compressed = compressed
        }
    }

    /// Where a record's output lies in a segment.
    public struct Placement: Equatable, Hashable, Sendable {
        /// The index of the segment in `segments`.
        public var segment: Int
        /// The output's first byte in the segment.
        public var offset: Int64

        /// Creates a placement.
        public init(segment: Int, offset: Int64) {
            self.segment = segment
            self.offset = offset
        }
    }

    /// One entry the go command used.
    public struct Record: Equatable, Sendable {
        /// The go command's ActionID.
        public var actionID: Digest
        /// What the action produced.
        public var entry: ActionEntry
        /// Where the output lies in a segment, if it is packed.
        public var placement: Placement?
        /// How many manifests have been written since a run last used the entry (0: the
        /// run that wrote this manifest used it).
        public var age: Int

        /// Creates a record.
        public init(actionID: Digest, entry: ActionEntry, placement: Placement? = nil, age: Int = 0) {
            self.actionID = actionID
            self.entry = entry
            self.placement = placement
            self.age = age
        }
    }

    static let magic: [UInt8] = Array("CBGM".utf8)
    static let version: UInt32 = 2
    static let compressedVersion: UInt32 = 3
    static let headerSize = 24
    static let segmentSize = 40
    static let segmentSizeV3 = 56
    static let recordSize = 96
    static let headerSizeV1 = 16
    static let recordSizeV1 = 80
    static let noSegment = UInt32.max
    /// The largest manifest a reader accepts.
    public static let maxEncodedSize = headerSize + maxRecords * (recordSize + segmentSizeV3)
    /// Manifests keep at most this many records (4 MB); older ones fall off the end.
    public static let maxRecords = 50_000
    /// Records unused by this many manifest writes in a row are dropped: entries of code
    /// that has changed since stop being prefetched.
    public static let maxAge = 4

    /// The records, most important (earliest asked for) first.
    public var records: [Record]
    /// The segments the records' placements refer to.
    public var segments: [Segment] = []

    /// Creates a manifest of `records` and the `segments` their placements refer to,
    /// keeping the first of any repeated ActionID and at most `maxRecords`.
    public init(_ records: [Record], segments: [Segment] = []) {
        self.segments = segments
        var seen = Set<Digest>()
        var kept: [Record] = []
        kept.reserveCapacity(min(records.count, WarmManifest.maxRecords))
        for r in records where kept.count < WarmManifest.maxRecords && seen.insert(r.actionID).inserted {
            kept.append(r)
        }
        self.records = kept
    }

    /// The synthetic ActionID under which the manifest `name` is recorded: the SHA-256 of
    /// `casbridge-go-manifest`, a zero byte and the name. No Go ActionID hashes that text.
    public static func actionID(named name: String) -> Digest {
        SHA256.hash(Array("casbridge-go-manifest\u{0}\(name)".utf8))
    }

    /// The manifest in the `CBGM` format: version 3 if a segment is compressed, else 2.
    public func encoded() -> [UInt8] {
        let v3 = segments.contains { $0.compressed }
        var out: [UInt8] = []
        out.reserveCapacity(
            WarmManifest.headerSize + segments.count * WarmManifest.segmentSizeV3 + records.count
                * WarmManifest.recordSize)
        out += WarmManifest.magic
        appendLittleEndian(v3 ? WarmManifest.compressedVersion : WarmManifest.version, to: &out)
        appendLittleEndian(UInt64(records.count), to: &out)
        appendLittleEndian(UInt32(segments.count), to: &out)
        appendLittleEndian(UInt32(0), to: &out)
        for s in segments {
            out += s.digest.bytes
            appendLittleEndian(UInt64(bitPattern: s.size), to: &out)
            if v3 {
                appendLittleEndian(UInt64(bitPattern: s.contentSize), to: &out)
                appendLittleEndian(UInt32(s.compressed ? 1 : 0), to: &out)
                appendLittleEndian(UInt32(0), to: &out)
            }
        }
        for r in records {
            out += r.actionID.bytes
            out += r.entry.outputID.bytes
            appendLittleEndian(UInt64(bitPattern: r.entry.size), to: &out)
            appendLittleEndian(UInt64(bitPattern: r.entry.time.nanoseconds), to: &out)
            appendLittleEndian(r.placement.map { UInt32($0.segment) } ?? WarmManifest.noSegment, to: &out)
            appendLittleEndian(UInt32(clamping: r.age), to: &out)
            appendLittleEndian(UInt64(bitPattern: r.placement?.offset ?? 0), to: &out)
        }
        return out
    }

    /// Decodes a manifest (version 1, 2 or 3); throws naming what is wrong with `bytes`.
    public init(decoding bytes: [UInt8]) throws(CASError) {
        guard bytes.count >= WarmManifest.headerSizeV1, Array(bytes[0..<4]) == WarmManifest.magic else {
            throw CASError(.malformedInput, "warm manifest: not a CBGM manifest (\(bytes.count) bytes)")
        }
        let version = UInt32(truncatingIfNeeded: readLittleEndian(bytes, at: 4, count: 4))
        let count = readLittleEndian(bytes, at: 8, count: 8)
        guard count <= UInt64(WarmManifest.maxRecords) else {
            throw CASError(.malformedInput, "warm manifest: \(count) records, more than \(WarmManifest.maxRecords)")
        }
        var segmentCount = 0
        var base: Int
        let recordSize: Int
        var segmentSize = WarmManifest.segmentSize
        switch version {
        case 1:
            base = WarmManifest.headerSizeV1
            recordSize = WarmManifest.recordSizeV1
        case 2, 3:
            guard bytes.count >= WarmManifest.headerSize else {
                throw CASError(.malformedInput, "warm manifest: \(bytes.count) bytes hold no version \(version) header")
            }
            segmentCount = Int(readLittleEndian(bytes, at: 16, count: 4))
            base = WarmManifest.headerSize
            recordSize = WarmManifest.recordSize
            if version == 3 { segmentSize = WarmManifest.segmentSizeV3 }
        default:
            throw CASError(
                .malformedInput, "warm manifest: version \(version), this cacheprog reads versions 1 to 3")
        }
        guard segmentCount <= WarmManifest.maxRecords,
            bytes.count == base + segmentCount * segmentSize + Int(count) * recordSize
        else {
            throw CASError(
                .malformedInput,
                "warm manifest: \(bytes.count) bytes do not hold \(segmentCount) segments and \(count) records")
        }
        var segments: [Segment] = []
        segments.reserveCapacity(segmentCount)
        for i in 0..<segmentCount {
            let digest = Digest(bytes: bytes[base..<base + 32])!
            let size = Int64(bitPattern: readLittleEndian(bytes, at: base + 32, count: 8))
            guard size >= 0 else { throw CASError(.malformedInput, "warm manifest: segment \(i) has size \(size)") }
            if version == 3 {
                let contentSize = Int64(bitPattern: readLittleEndian(bytes, at: base + 40, count: 8))
                let encoding = readLittleEndian(bytes, at: base + 48, count: 4)
                guard contentSize >= 0, encoding <= 1, encoding == 1 || contentSize == size else {
                    throw CASError(
                        .malformedInput,
                        "warm manifest: segment \(i) has encoding \(encoding) and content size \(contentSize) "
                            + "for \(size) bytes")
                }
                segments.append(
                    Segment(digest: digest, size: size, contentSize: contentSize, compressed: encoding == 1))
            } else {
                segments.append(Segment(digest: digest, size: size))
            }
            base += segmentSize
        }
        var records: [Record] = []
        records.reserveCapacity(Int(count))
        for i in 0..<Int(count) {
            let size = Int64(bitPattern: readLittleEndian(bytes, at: base + 64, count: 8))
            guard size >= 0 else { throw CASError(.malformedInput, "warm manifest: record \(i) has size \(size)") }
            var placement: Placement? = nil
            var age = 0
            if version >= 2 {
                age = Int(readLittleEndian(bytes, at: base + 84, count: 4))
                let segment = UInt32(truncatingIfNeeded: readLittleEndian(bytes, at: base + 80, count: 4))
                let offset = Int64(bitPattern: readLittleEndian(bytes, at: base + 88, count: 8))
                if segment != WarmManifest.noSegment {
                    guard Int(segment) < segments.count, offset >= 0,
                        offset <= segments[Int(segment)].contentSize - size
                    else {
                        throw CASError(
                            .malformedInput,
                            "warm manifest: record \(i) lies outside its segment (\(segment) at \(offset))")
                    }
                    placement = Placement(segment: Int(segment), offset: offset)
                }
            }
            records.append(
                Record(
                    actionID: Digest(bytes: bytes[base..<base + 32])!,
                    entry: ActionEntry(
                        outputID: Digest(bytes: bytes[base + 32..<base + 64])!, size: size,
                        time: Timestamp(
                            nanoseconds: Int64(bitPattern: readLittleEndian(bytes, at: base + 72, count: 8)))),
                    placement: placement, age: age))
            base += recordSize
        }
        self.records = records
        self.segments = segments
    }
}

private func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { out += $0 }
}

private func readLittleEndian(_ bytes: [UInt8], at offset: Int, count: Int) -> UInt64 {
    var value: UInt64 = 0
    for i in (0..<count).reversed() { value = value << 8 | UInt64(bytes[offset + i]) }
    return value
}
