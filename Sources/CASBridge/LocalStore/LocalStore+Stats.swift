import FoundationEssentials
import Glibc

extension LocalStore {
    /// The size of the store.
    public struct Summary: Sendable, Equatable {
        /// Entries in the index.
        public var entries: Int
        /// Blob files.
        public var blobs: Int
        /// Bytes of blob files.
        public var bytes: Int64
    }

    /// Counts entries, blobs and bytes.
    public func summary() -> Summary {
        let entries = entryCount
        var blobs = 0
        var bytes: Int64 = 0
        for shard in FileSystem.list(blobRoot) {
            for name in FileSystem.list("\(blobRoot)/\(shard)") where !name.hasPrefix(".") {
                if let st = FileSystem.status("\(blobRoot)/\(shard)/\(name)") {
                    blobs += 1
                    bytes += Int64(st.st_size)
                }
            }
        }
        return Summary(entries: entries, blobs: blobs, bytes: bytes)
    }

    var runLogPath: String { "\(root)/runs.log" }

    /// Appends a run's record to the store's run log (one JSON line).
    public func appendRun(_ record: RunRecord) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard var line = try? Array(encoder.encode(record)) else { return }
        line.append(0x0A)
        guard let fd = try? FileSystem.open(runLogPath, O_WRONLY | O_APPEND | O_CREAT) else { return }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0, st.st_size > 4 << 20 {
            // Keep the log small: start over once it passes 4 MiB.
            _ = ftruncate(fd, 0)
        }
        try? FileSystem.writeAll(fd, line, path: runLogPath)
    }

    /// The most recent runs in the run log, newest last.
    public func recentRuns(limit: Int = 1000) -> [RunRecord] {
        guard let bytes = try? FileSystem.readFile(runLogPath) else { return [] }
        let decoder = JSONDecoder()
        return bytes.split(separator: 0x0A).suffix(limit).compactMap {
            try? decoder.decode(RunRecord.self, from: Data($0))
        }
    }
}
