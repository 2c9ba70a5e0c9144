import Glibc

/// The sorted part of the local store's index (`v1/table`), read in place: a lookup reads
/// one fan-out entry and the handful of records of one bucket with `pread`, whatever the
/// number of entries. Nothing is mapped or loaded, so the process's memory does not grow
/// with the table (a mapping would, by the pages the kernel maps around each one touched).
///
/// Layout, little-endian: a 64-byte header (`Header`), a fan-out of `2^bits` cumulative
/// counts (UInt32: records whose ActionID's first `bits` bits are at most `i`), the records
/// sorted by ActionID (one per ActionID, `IndexRecord` of kind `.table`), and the slots of
/// the most recently used records, most recent first, for the background stamp checks. The
/// file is written whole and renamed into place (`IndexTableWriter`); afterwards only last
/// use times change, in place. See docs/store-format.md.
final class IndexTable: Sendable {
    static let magic: UInt32 = 0x3254_4243  // "CBT2"
    static let version: UInt32 = 1
    static let headerSize = 64
    /// Buckets up to this many records are read whole; larger ones are searched a key at a time.
    static let wholeBucket = 64

    /// The open file, for in-place touches and to notice that it was replaced.
    let fd: Int32
    /// Records in the table.
    let count: Int
    let fanoutBits: Int
    let recordsOffset: Int
    let recencyOffset: Int
    /// Slots in the recency list.
    let recencyCount: Int

    /// Reads the header of the table open at `fd` (taking ownership of it), or returns nil
    /// after closing it when the file is not a whole, valid table.
    init?(fd: Int32) {
        var info = stat()
        var raw = [UInt8](repeating: 0, count: IndexTable.headerSize)
        guard fstat(fd, &info) == 0, pread(fd, &raw, IndexTable.headerSize, 0) == IndexTable.headerSize,
            let header = raw.withUnsafeBytes({ IndexTable.Header($0) }), header.length == Int(info.st_size)
        else {
            close(fd)
            return nil
        }
        self.fd = fd
        count = header.count
        fanoutBits = header.fanoutBits
        recordsOffset = IndexTable.headerSize + 4 << header.fanoutBits
        recencyOffset = recordsOffset + header.count * IndexRecord.size
        recencyCount = header.recencyCount
    }

    deinit {
        close(fd)
    }

    /// Opens the table at `path` (read-only if the store is); nil when there is none or it is
    /// not valid.
    static func open(_ path: String) -> IndexTable? {
        guard let fd = (try? FileSystem.open(path, O_RDWR)) ?? (try? FileSystem.open(path, O_RDONLY)) else {
            return nil
        }
        return IndexTable(fd: fd)
    }

    /// Whether the file is still the store's table (a compaction or trim replaces it).
    var isCurrent: Bool {
        var info = stat()
        return fstat(fd, &info) == 0 && info.st_nlink > 0
    }

    /// The slot and record of `actionID`, if the table has a valid one.
    func find(_ actionID: Digest) -> (slot: Int, record: IndexRecord)? {
        let bucket = actionID.prefix(bits: fanoutBits)
        var bounds = [UInt32](repeating: 0, count: 2)
        let at = IndexTable.headerSize + 4 * (bucket - 1)
        let got: Int
        if bucket == 0 {
            got = bounds.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + 4, 4, off_t(IndexTable.headerSize)) } + 4
        } else {
            got = bounds.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, 8, off_t(at)) }
        }
        guard got == 8 else { return nil }
        var low = Int(UInt32(littleEndian: bounds[0]))
        var high = Int(UInt32(littleEndian: bounds[1]))
        guard low <= high, high <= count else { return nil }
        while high - low > IndexTable.wholeBucket {
            let mid = (low + high) / 2
            guard let key = readKey(mid) else { return nil }
            if key == actionID { return record(at: mid).map { (mid, $0) } }
            if key < actionID { low = mid + 1 } else { high = mid }
        }
        guard low < high, let bytes = read(count: (high - low) * IndexRecord.size, at: recordAddress(low)) else {
            return nil
        }
        return bytes.withUnsafeBytes { raw -> (Int, IndexRecord)? in
            for i in 0..<(high - low) {
                let base = i * IndexRecord.size
                let key = Digest(rawBytes: UnsafeRawBufferPointer(rebasing: raw[(base + 8)..<(base + 40)]))
                guard key == actionID else { continue }
                let slice = UnsafeRawBufferPointer(rebasing: raw[base..<(base + IndexRecord.size)])
                return IndexRecord.decode(slice, as: .table).map { (low + i, $0) }
            }
            return nil
        }
    }

    /// The record in `slot`, or nil if it fails its checksum.
    func record(at slot: Int) -> IndexRecord? {
        guard slot >= 0, slot < count, let bytes = read(count: IndexRecord.size, at: recordAddress(slot)) else {
            return nil
        }
        return bytes.withUnsafeBytes { IndexRecord.decode($0, as: .table) }
    }

    /// Records `first..<first + n` (fewer at the end) as they are, for a sequential scan.
    func records(from first: Int, count n: Int) -> [UInt8] {
        let end = min(count, first + n)
        guard first < end else { return [] }
        return read(count: (end - first) * IndexRecord.size, at: recordAddress(first)) ?? []
    }

    /// The slots of the recency list's positions `range` (clamped to the list).
    func recentSlots(_ range: Range<Int>) -> [Int] {
        let clamped = range.clamped(to: 0..<recencyCount)
        guard !clamped.isEmpty, let bytes = read(count: 4 * clamped.count, at: recencyOffset + 4 * clamped.lowerBound)
        else { return [] }
        return bytes.withUnsafeBytes { raw in
            (0..<clamped.count).map {
                Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
            }
        }
    }

    /// The whole fan-out (cumulative counts per bucket), or nil if it cannot be read.
    func fanout() -> [Int]? {
        read(count: 4 << fanoutBits, at: IndexTable.headerSize).map { bytes in
            bytes.withUnsafeBytes { raw in
                (0..<(1 << fanoutBits)).map {
                    Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
                }
            }
        }
    }

    /// Records a new last use time for the record in `slot`, in place. The caller holds the
    /// store's shared lock, so no compaction replaces the file meanwhile.
    func touch(slot: Int, at time: Timestamp) {
        guard slot >= 0, slot < count else { return }
        var value = time.nanoseconds.littleEndian
        _ = pwrite(fd, &value, 8, off_t(recordAddress(slot) + IndexRecord.lastUseOffset))
    }

    private func readKey(_ slot: Int) -> Digest? {
        read(count: 32, at: recordAddress(slot) + 8).map { bytes in bytes.withUnsafeBytes { Digest(rawBytes: $0) } }
    }

    private func read(count n: Int, at offset: Int) -> [UInt8]? {
        let bytes = [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
            var done = 0
            while done < n {
                let got = pread(fd, buffer.baseAddress! + done, n - done, off_t(offset + done))
                if got < 0, errno == EINTR { continue }
                if got <= 0 { break }
                done += got
            }
            initialized = done
        }
        return bytes.count == n ? bytes : nil
    }

    private func recordAddress(_ slot: Int) -> Int {
        recordsOffset + slot * IndexRecord.size
    }
}
