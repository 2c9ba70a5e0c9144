import CASBridge
import Glibc

/// Writes a zip archive whose entries are stored uncompressed, from files on disk.
///
/// Used to rebuild a module version's zip from its extracted files for a local GOPROXY:
/// the go command checks a module zip by the hash of its file names and contents
/// (go.sum's `h1:`), not by its bytes, so a zip holding the same files in the same
/// names passes the same check and extracts to the same directory.
struct StoredZipWriter {
    private let fd: Int32
    private let path: String
    private var offset: UInt32 = 0
    private var central: [UInt8] = []
    private var count = 0

    /// Creates (or empties) the archive at `path`.
    init(path: String) throws {
        self.path = path
        fd = try FileSystem.openEmptied(path)
    }

    /// Appends the file at `source` under `name` (a `/`-separated path) and returns the
    /// SHA-256 of what it read, so the caller can check the file is what it expected.
    @discardableResult
    mutating func add(name: String, source: String) throws -> Digest {
        let input = try FileSystem.open(source, O_RDONLY)
        defer { close(input) }
        var crc = CRC32()
        var hasher = SHA256()
        var size: UInt64 = 0
        try FileSystem.stream(fd: input, path: source) { piece in
            crc.update(piece)
            hasher.update(piece)
            size += UInt64(piece.count)
        }
        guard size < 0xFFFF_FFFF, UInt64(offset) + size + 4096 < 0xFFFF_FFFF else {
            throw CASError(.malformedInput, "\(source) is too large for a zip without zip64 extensions")
        }
        let nameBytes = Array(name.utf8)
        var local: [UInt8] = []
        StoredZipWriter.put32(&local, 0x0403_4B50)
        StoredZipWriter.put16(&local, 20)  // version needed
        StoredZipWriter.put16(&local, 0x0800)  // flags: UTF-8 names
        StoredZipWriter.put16(&local, 0)  // method: stored
        StoredZipWriter.put16(&local, 0)  // time
        StoredZipWriter.put16(&local, 0x21)  // date: 1980-01-01
        StoredZipWriter.put32(&local, crc.value)
        StoredZipWriter.put32(&local, UInt32(size))
        StoredZipWriter.put32(&local, UInt32(size))
        StoredZipWriter.put16(&local, UInt16(nameBytes.count))
        StoredZipWriter.put16(&local, 0)
        local += nameBytes
        try FileSystem.writeAll(fd, local, path: path)
        _ = lseek(input, 0, SEEK_SET)
        try FileSystem.stream(fd: input, path: source) { try FileSystem.writeAll(fd, $0, path: path) }

        var entry: [UInt8] = []
        StoredZipWriter.put32(&entry, 0x0201_4B50)
        StoredZipWriter.put16(&entry, 0x031E)  // made by: Unix, 3.0
        entry += local[4..<28]  // version needed … name length, as in the local header
        StoredZipWriter.put16(&entry, 0)  // extra length
        StoredZipWriter.put16(&entry, 0)  // comment length
        StoredZipWriter.put16(&entry, 0)  // disk
        StoredZipWriter.put16(&entry, 0)  // internal attributes
        StoredZipWriter.put32(&entry, 0o100644 << 16)  // external attributes: regular file 0644
        StoredZipWriter.put32(&entry, offset)
        entry += nameBytes
        central += entry
        offset += UInt32(local.count) + UInt32(size)
        count += 1
        return hasher.finalize()
    }

    /// Writes the central directory and closes the file.
    mutating func finish() throws {
        defer { close(fd) }
        guard count < 0xFFFF else { throw CASError(.malformedInput, "\(path): too many entries for a zip") }
        var end: [UInt8] = []
        StoredZipWriter.put32(&end, 0x0605_4B50)
        StoredZipWriter.put16(&end, 0)
        StoredZipWriter.put16(&end, 0)
        StoredZipWriter.put16(&end, UInt16(count))
        StoredZipWriter.put16(&end, UInt16(count))
        StoredZipWriter.put32(&end, UInt32(central.count))
        StoredZipWriter.put32(&end, offset)
        StoredZipWriter.put16(&end, 0)
        try FileSystem.writeAll(fd, central + end, path: path)
    }

    private static func put16(_ out: inout [UInt8], _ v: UInt16) {
        out += [UInt8(v & 0xFF), UInt8(v >> 8)]
    }

    private static func put32(_ out: inout [UInt8], _ v: UInt32) {
        out += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
    }
}
