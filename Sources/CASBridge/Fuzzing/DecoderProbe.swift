import Glibc

/// Narrow entry points for the fuzz targets (fuzz/) to the local store's internal decoders:
/// each takes bytes as a crash, a torn write or a remote may leave them and runs the code the
/// store runs on them, so the targets exercise the real decoders rather than copies.
package enum DecoderProbe {
    /// Decodes a journal (`v1/index`) as the store does after a crash, and every 128 bytes also
    /// as a table record; returns the journal records found.
    package static func journal(_ bytes: [UInt8]) -> Int {
        var records = 0
        let consumed = IndexJournal.decode(bytes) { _ in records += 1 }
        precondition(consumed <= bytes.count, "journal decoding consumed more than it was given")
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset + IndexRecord.size <= raw.count {
                _ = IndexRecord.decode(UnsafeRawBufferPointer(rebasing: raw[offset...]), as: .table)
                offset += IndexRecord.size
            }
        }
        return records
    }

    /// Opens the table file open at `fd` (taking ownership of it) and reads every slot (up to
    /// `limit`), the recency list and lookups of the ActionIDs found and of absent ones; returns
    /// the valid records, or nil when the file is not a table.
    package static func table(fd: Int32, limit: Int = 4096) -> Int? {
        guard let table = IndexTable(fd: fd) else { return nil }
        let slots = min(table.count, limit)
        var valid = 0
        for slot in 0..<slots {
            guard let record = table.record(at: slot) else { continue }
            valid += 1
            if let found = table.find(record.actionID) {
                precondition(found.record.actionID == record.actionID, "find returned another ActionID")
            }
        }
        _ = table.records(from: 0, count: slots)
        for slot in table.recentSlots(0..<min(table.recencyCount, limit)) { _ = table.record(at: slot) }
        var probe = [UInt8](repeating: 0, count: 32)
        for first: UInt8 in [0x00, 0x7f, 0x80, 0xff] {
            probe[0] = first
            _ = table.find(Digest(bytes: probe)!)
        }
        return valid
    }

    /// Splits `segment` (segment 0 of `manifest`) into `local` as a prefetch does, fed in
    /// chunks of growing, uneven sizes; returns the outputs published.
    package static func split(segment: [UInt8], of manifest: WarmManifest, into local: LocalStore) -> Int {
        let pieces = manifest.records.compactMap { r in
            r.placement.flatMap { $0.segment == 0 ? SegmentSplitter.Piece(offset: $0.offset, entry: r.entry) : nil }
        }
        let splitter = SegmentSplitter(pieces: pieces, local: local)
        segment.withUnsafeBytes { raw in
            var offset = 0
            var step = 1
            while offset < raw.count {
                let n = min(step, raw.count - offset)
                do { try splitter.write(UnsafeRawBufferPointer(rebasing: raw[offset..<offset + n])) } catch { break }
                offset += n
                step = step * 3 + 1
            }
        }
        splitter.finish()
        return splitter.published.count
    }
}
