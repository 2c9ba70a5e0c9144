import Glibc

/// Writes a new `IndexTable` file from records in ActionID order, streaming: memory holds
/// the fan-out counts, one output buffer and the recency candidates, not the records.
struct IndexTableWriter: ~Copyable {
    /// How many of the most recently used records the recency list names.
    static let recencyLimit = 16_384

    let path: String
    let fd: Int32
    let fanoutBits: Int
    private var counts: [UInt32]
    private var buffer: [UInt8] = []
    private var offset: Int
    private(set) var count = 0
    private var last: Digest?
    private var recent: [(use: Int64, slot: UInt32)] = []

    /// Creates the file at `path` for about `expectedCount` records (which sets the fan-out).
    init(path: String, expectedCount: Int) throws {
        self.path = path
        fd = try FileSystem.open(path, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644)
        fanoutBits = IndexTable.Header.fanoutBits(for: expectedCount)
        counts = [UInt32](repeating: 0, count: 1 << fanoutBits)
        offset = IndexTable.headerSize + 4 << fanoutBits
        buffer.reserveCapacity(1 << 20)
    }

    /// Adds the next record. One out of order (a damaged table) is dropped.
    mutating func add(_ record: IndexRecord) throws {
        if let last, !(last < record.actionID) { return }
        last = record.actionID
        counts[record.actionID.prefix(bits: fanoutBits)] += 1
        recent.append((record.lastUse.nanoseconds, UInt32(count)))
        if recent.count >= 2 * IndexTableWriter.recencyLimit { trimRecent() }
        record.encode(into: &buffer, as: .table)
        count += 1
        if buffer.count >= 1 << 20 { try flush() }
    }

    /// Writes the recency list, fan-out and header, and makes the file durable. The caller
    /// renames it into place.
    mutating func finish() throws {
        trimRecent()
        for (_, slot) in recent {
            withUnsafeBytes(of: slot.littleEndian) { buffer.append(contentsOf: $0) }
        }
        try flush()
        var fanout: [UInt8] = []
        fanout.reserveCapacity(4 * counts.count)
        var total: UInt32 = 0
        for c in counts {
            total += c
            withUnsafeBytes(of: total.littleEndian) { fanout.append(contentsOf: $0) }
        }
        let header = IndexTable.Header(count: count, fanoutBits: fanoutBits, recencyCount: recent.count)
        try write(header.bytes + fanout, at: 0)
        guard fsync(fd) == 0 else { throw SystemError("fsync \(path)", errno: errno) }
        close(fd)
    }

    /// Closes and removes an unfinished file.
    consuming func discard() {
        close(fd)
        unlink(path)
    }

    private mutating func trimRecent() {
        recent.sort { $0.use > $1.use }
        if recent.count > IndexTableWriter.recencyLimit {
            recent.removeLast(recent.count - IndexTableWriter.recencyLimit)
        }
    }

    private mutating func flush() throws {
        try write(buffer, at: offset)
        offset += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    private func write(_ bytes: [UInt8], at position: Int) throws {
        var done = 0
        try bytes.withUnsafeBytes { raw in
            while done < raw.count {
                let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(position + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SystemError("write \(path)", errno: errno)
                }
                done += n
            }
        }
    }
}
