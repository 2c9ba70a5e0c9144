/// One fixed-size record of the local store's index, in its journal (`v1/index`) or its
/// sorted table (`v1/table`).
///
/// Layout, little-endian, 128 bytes: magic (4: `CBX1` in the journal, `CBT1` in the table),
/// reserved (4), ActionID (32), OutputID (32), size (8), put time (8), last use time (8),
/// blob change time (8), blob inode (8), reserved (8), checksum of the first 120 bytes (8).
/// A table record's checksum skips the last use time, which is rewritten in place when the
/// entry is used; a journal record's covers it. In the journal the latest record for an
/// ActionID wins, and a record with a newer use time is a touch.
struct IndexRecord: Equatable {
    static let size = 128
    /// Byte offset of the last use time, the one field a table record updates in place.
    static let lastUseOffset = 88

    /// Where a record is stored, which sets its magic and what its checksum covers.
    enum Kind {
        case journal
        case table

        var magic: UInt32 {
            switch self {
            case .journal: 0x3158_4243  // "CBX1"
            case .table: 0x3154_4243  // "CBT1"
            }
        }
    }

    var actionID: Digest
    var entry: ActionEntry
    var lastUse: Timestamp
    var stamp: BlobStamp

    func encode(into out: inout [UInt8], as kind: Kind = .journal) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: IndexRecord.size))
        out.withUnsafeMutableBytes { whole in
            encode(into: UnsafeMutableRawBufferPointer(rebasing: whole[start..<(start + IndexRecord.size)]), as: kind)
        }
    }

    /// Writes the record into the first `size` bytes of `raw`, which must be zeroed.
    func encode(into raw: UnsafeMutableRawBufferPointer, as kind: Kind) {
        raw.storeBytes(of: kind.magic.littleEndian, toByteOffset: 0, as: UInt32.self)
        actionID.withUnsafeBytes {
            raw.baseAddress!.advanced(by: 8).copyMemory(from: $0.baseAddress!, byteCount: 32)
        }
        entry.outputID.withUnsafeBytes {
            raw.baseAddress!.advanced(by: 40).copyMemory(from: $0.baseAddress!, byteCount: 32)
        }
        raw.storeBytes(of: entry.size.littleEndian, toByteOffset: 72, as: Int64.self)
        raw.storeBytes(of: entry.time.nanoseconds.littleEndian, toByteOffset: 80, as: Int64.self)
        raw.storeBytes(of: lastUse.nanoseconds.littleEndian, toByteOffset: 88, as: Int64.self)
        raw.storeBytes(of: stamp.changeTime.littleEndian, toByteOffset: 96, as: Int64.self)
        raw.storeBytes(of: stamp.inode.littleEndian, toByteOffset: 104, as: UInt64.self)
        let sum = IndexRecord.checksum(UnsafeRawBufferPointer(raw), kind: kind)
        raw.storeBytes(of: sum.littleEndian, toByteOffset: 120, as: UInt64.self)
    }

    /// Decodes the record at the start of `raw`, or returns nil if it is not a valid record.
    static func decode(_ raw: UnsafeRawBufferPointer, as kind: Kind = .journal) -> IndexRecord? {
        guard raw.count >= size,
            UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self)) == kind.magic,
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 120, as: UInt64.self))
                == checksum(raw, kind: kind)
        else { return nil }
        func i64(_ o: Int) -> Int64 { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int64.self)) }
        let size = i64(72)
        return IndexRecord(
            actionID: Digest(rawBytes: UnsafeRawBufferPointer(rebasing: raw[8..<40])),
            entry: ActionEntry(
                outputID: Digest(rawBytes: UnsafeRawBufferPointer(rebasing: raw[40..<72])),
                size: size,
                time: Timestamp(nanoseconds: i64(80))),
            lastUse: Timestamp(nanoseconds: i64(88)),
            stamp: BlobStamp(size: size, changeTime: i64(96), inode: UInt64(bitPattern: i64(104))))
    }

    /// A multiply-xorshift hash of the first 120 bytes, eight at a time; a table record's
    /// skips the last use time.
    static func checksum(_ raw: UnsafeRawBufferPointer, kind: Kind = .journal) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var i = 0
        while i + 8 <= min(raw.count, 120) {
            let word = kind == .table && i == lastUseOffset ? 0 : raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h ^= word
            h &*= 0x0000_0100_0000_01b3
            h ^= h >> 29
            i += 8
        }
        return h
    }
}
