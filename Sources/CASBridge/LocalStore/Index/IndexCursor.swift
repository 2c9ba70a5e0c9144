import Glibc

/// A source of index records in ActionID order, for `IndexMerge`.
protocol IndexCursor {
    mutating func next() throws -> IndexRecord?
}

/// The valid records of a table, slot by slot, read a megabyte at a time.
struct TableCursor: IndexCursor {
    let table: IndexTable
    var slot = 0
    var buffer: [UInt8] = []
    var position = 0

    mutating func next() -> IndexRecord? {
        while true {
            if position + IndexRecord.size > buffer.count {
                buffer = table.records(from: slot, count: 8192)
                position = 0
                if buffer.isEmpty { return nil }
            }
            defer {
                position += IndexRecord.size
                slot += 1
            }
            let record = buffer.withUnsafeBytes {
                IndexRecord.decode(
                    UnsafeRawBufferPointer(rebasing: $0[position..<(position + IndexRecord.size)]), as: .table)
            }
            if let record { return record }
        }
    }
}

/// Records in memory.
struct ArrayCursor: IndexCursor {
    let records: [IndexRecord]
    var index = 0

    mutating func next() -> IndexRecord? {
        guard index < records.count else { return nil }
        defer { index += 1 }
        return records[index]
    }
}

/// A run file of journal-format records, read a megabyte at a time.
final class FileCursor: IndexCursor {
    let path: String
    let fd: Int32
    var buffer: [UInt8] = []
    var position = 0
    var offset: Int64 = 0
    var ended = false

    init(path: String) throws {
        self.path = path
        fd = try FileSystem.open(path, O_RDONLY)
    }

    deinit { close(fd) }

    func next() throws -> IndexRecord? {
        while !ended {
            if position + IndexRecord.size > buffer.count {
                buffer = try FileSystem.pread(fd, count: 8192 * IndexRecord.size, at: offset, path: path)
                offset += Int64(buffer.count)
                position = 0
                if buffer.count < IndexRecord.size {
                    ended = true
                    return nil
                }
            }
            defer { position += IndexRecord.size }
            let record = buffer.withUnsafeBytes {
                IndexRecord.decode(UnsafeRawBufferPointer(rebasing: $0[position..<(position + IndexRecord.size)]))
            }
            if let record { return record }
        }
        return nil
    }
}
