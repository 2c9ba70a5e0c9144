/// The list of action entries one helper run used, in the order the go command asked for
/// them: stored in the remote so that the next run with an empty local store can fetch
/// every blob it will need at once, ahead of the go command's requests.
///
/// Stored as a blob (`CBGM` format: a 16-byte header — magic `CBGM`, version 1 as a
/// little-endian UInt32, record count as a little-endian UInt64 — then 80-byte records:
/// ActionID, OutputID, size and put time in nanoseconds, little-endian) whose entry is
/// recorded under the synthetic ActionID `actionID(named:)`, like any other output.
public struct WarmManifest: Equatable, Sendable {
    /// One entry the go command used.
    public struct Record: Equatable, Sendable {
        /// The go command's ActionID.
        public var actionID: Digest
        /// What the action produced.
        public var entry: ActionEntry

        /// Creates a record.
        public init(actionID: Digest, entry: ActionEntry) {
            self.actionID = actionID
            self.entry = entry
        }
    }

    static let magic: [UInt8] = Array("CBGM".utf8)
    static let version: UInt32 = 1
    static let headerSize = 16
    static let recordSize = 80
    /// Manifests keep at most this many records (4 MB); older ones fall off the end.
    public static let maxRecords = 50_000

    /// The records, most important (earliest asked for) first.
    public var records: [Record]

    /// Creates a manifest of `records`, keeping the first of any repeated ActionID and at
    /// most `maxRecords`.
    public init(_ records: [Record]) {
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

    /// This run's records first, then those of `older` that this run did not use.
    public func merged(with older: WarmManifest?) -> WarmManifest {
        guard let older else { return self }
        return WarmManifest(records + older.records)
    }

    /// The manifest in the `CBGM` format.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(WarmManifest.headerSize + records.count * WarmManifest.recordSize)
        out += WarmManifest.magic
        appendLittleEndian(WarmManifest.version, to: &out)
        appendLittleEndian(UInt64(records.count), to: &out)
        for r in records {
            out += r.actionID.bytes
            out += r.entry.outputID.bytes
            appendLittleEndian(UInt64(bitPattern: r.entry.size), to: &out)
            appendLittleEndian(UInt64(bitPattern: r.entry.time.nanoseconds), to: &out)
        }
        return out
    }

    /// Decodes a manifest; throws naming what is wrong with `bytes`.
    public init(decoding bytes: [UInt8]) throws(CASError) {
        guard bytes.count >= WarmManifest.headerSize, Array(bytes[0..<4]) == WarmManifest.magic else {
            throw CASError(.malformedInput, "warm manifest: not a CBGM manifest (\(bytes.count) bytes)")
        }
        let version = UInt32(truncatingIfNeeded: readLittleEndian(bytes, at: 4, count: 4))
        guard version == WarmManifest.version else {
            throw CASError(.malformedInput, "warm manifest: version \(version), this cacheprog reads version 1")
        }
        let count = readLittleEndian(bytes, at: 8, count: 8)
        guard count <= UInt64(WarmManifest.maxRecords),
            bytes.count == WarmManifest.headerSize + Int(count) * WarmManifest.recordSize
        else {
            throw CASError(.malformedInput, "warm manifest: \(bytes.count) bytes do not hold \(count) records")
        }
        var records: [Record] = []
        records.reserveCapacity(Int(count))
        for i in 0..<Int(count) {
            let base = WarmManifest.headerSize + i * WarmManifest.recordSize
            let size = Int64(bitPattern: readLittleEndian(bytes, at: base + 64, count: 8))
            guard size >= 0 else { throw CASError(.malformedInput, "warm manifest: record \(i) has size \(size)") }
            records.append(
                Record(
                    actionID: Digest(bytes: bytes[base..<base + 32])!,
                    entry: ActionEntry(
                        outputID: Digest(bytes: bytes[base + 32..<base + 64])!, size: size,
                        time: Timestamp(
                            nanoseconds: Int64(bitPattern: readLittleEndian(bytes, at: base + 72, count: 8))))))
        }
        self.records = records
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
