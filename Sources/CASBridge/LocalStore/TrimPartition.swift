import Glibc

/// The index's entries split by the first byte of their OutputID into 256 temporary files,
/// one per blob directory, so a trim can decide each blob directory with only its own
/// entries in memory.
struct TrimPartition: ~Copyable {
    /// What a trim needs of an entry.
    struct Reference {
        var outputID: Digest
        var lastUse: Int64
        /// The entry's position in the merged index.
        var ordinal: Int
    }

    static let referenceSize = 48
    private let paths: [String]
    private var buffers: [[UInt8]]

    init(directory: String) {
        let stem = "\(directory)/trim-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        paths = (0..<256).map { "\(stem)-\($0)" }
        buffers = Array(repeating: [], count: 256)
    }

    mutating func add(_ record: IndexRecord, ordinal: Int) throws {
        let shard = record.entry.outputID.prefix(bits: 8)
        record.entry.outputID.withUnsafeBytes { buffers[shard].append(contentsOf: $0) }
        withUnsafeBytes(of: record.lastUse.nanoseconds.littleEndian) { buffers[shard].append(contentsOf: $0) }
        withUnsafeBytes(of: Int64(ordinal).littleEndian) { buffers[shard].append(contentsOf: $0) }
        if buffers[shard].count >= 16 << 10 { try flush(shard) }
    }

    /// Writes what is still buffered.
    mutating func finishWriting() throws {
        for shard in 0..<256 { try flush(shard) }
    }

    /// The references of blob directory `shard`, sorted by OutputID.
    func read(_ shard: Int) throws -> [Reference] {
        guard FileSystem.status(paths[shard]) != nil else { return [] }
        let bytes = try FileSystem.readFile(paths[shard])
        var refs: [Reference] = []
        refs.reserveCapacity(bytes.count / TrimPartition.referenceSize)
        bytes.withUnsafeBytes { raw in
            var o = 0
            while o + TrimPartition.referenceSize <= raw.count {
                refs.append(
                    Reference(
                        outputID: Digest(rawBytes: UnsafeRawBufferPointer(rebasing: raw[o..<(o + 32)])),
                        lastUse: Int64(littleEndian: raw.loadUnaligned(fromByteOffset: o + 32, as: Int64.self)),
                        ordinal: Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: o + 40, as: Int64.self)))))
                o += TrimPartition.referenceSize
            }
        }
        refs.sort { $0.outputID < $1.outputID }
        return refs
    }

    /// Removes the files.
    func remove() {
        for path in paths { unlink(path) }
    }

    private mutating func flush(_ shard: Int) throws {
        guard !buffers[shard].isEmpty else { return }
        let fd = try FileSystem.open(paths[shard], O_WRONLY | O_APPEND | O_CREAT)
        defer { close(fd) }
        try FileSystem.writeAll(fd, buffers[shard], path: paths[shard])
        buffers[shard].removeAll(keepingCapacity: true)
    }
}

extension Array where Element == TrimPartition.Reference {
    /// Runs of references to the same blob (the array is sorted by OutputID).
    var byBlob: [ArraySlice<TrimPartition.Reference>] {
        var groups: [ArraySlice<TrimPartition.Reference>] = []
        var start = startIndex
        while start < endIndex {
            var end = start + 1
            while end < endIndex, self[end].outputID == self[start].outputID { end += 1 }
            groups.append(self[start..<end])
            start = end
        }
        return groups
    }
}
