extension IndexTable {
    /// The table's 64-byte header: magic (4), version (4), record count (8), fan-out bits (4),
    /// reserved (4), recency count (8), reserved (24), checksum of the first 56 bytes (8).
    struct Header: Equatable {
        var count: Int
        var fanoutBits: Int
        var recencyCount: Int

        /// The size of a table file with this header.
        var length: Int {
            IndexTable.headerSize + 4 << fanoutBits + count * IndexRecord.size + 4 * recencyCount
        }

        init(count: Int, fanoutBits: Int, recencyCount: Int) {
            self.count = count
            self.fanoutBits = fanoutBits
            self.recencyCount = recencyCount
        }

        /// Decodes a header, or nil when `raw` does not start with a valid one.
        init?(_ raw: UnsafeRawBufferPointer) {
            guard raw.count >= IndexTable.headerSize,
                UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self)) == IndexTable.magic,
                UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) == IndexTable.version,
                UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 56, as: UInt64.self))
                    == IndexRecord.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<56]))
            else { return nil }
            let count = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            let bits = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
            let recency = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
            guard count <= UInt32.max, bits <= 24, recency <= count else { return nil }
            self.init(count: Int(count), fanoutBits: Int(bits), recencyCount: Int(recency))
        }

        /// The encoded header.
        var bytes: [UInt8] {
            var out = [UInt8](repeating: 0, count: IndexTable.headerSize)
            out.withUnsafeMutableBytes { raw in
                raw.storeBytes(of: IndexTable.magic.littleEndian, toByteOffset: 0, as: UInt32.self)
                raw.storeBytes(of: IndexTable.version.littleEndian, toByteOffset: 4, as: UInt32.self)
                raw.storeBytes(of: UInt64(count).littleEndian, toByteOffset: 8, as: UInt64.self)
                raw.storeBytes(of: UInt32(fanoutBits).littleEndian, toByteOffset: 16, as: UInt32.self)
                raw.storeBytes(of: UInt64(recencyCount).littleEndian, toByteOffset: 24, as: UInt64.self)
                let sum = IndexRecord.checksum(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(raw)[0..<56]))
                raw.storeBytes(of: sum.littleEndian, toByteOffset: 56, as: UInt64.self)
            }
            return out
        }

        /// Fan-out bits for about `count` records: buckets of eight records or fewer on
        /// average, between 8 and 22 bits.
        static func fanoutBits(for count: Int) -> Int {
            var bits = 8
            while bits < 22, count >> bits > 8 { bits += 1 }
            return bits
        }
    }
}
