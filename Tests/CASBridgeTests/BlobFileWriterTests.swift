import CASBridgeTestSupport
import Glibc
import Testing

@testable import CASBridge

@Suite("BlobFileWriter")
struct BlobFileWriterTests {
    static let head = BlobFileWriter.headBytes
    static let staging = BlobFileWriter.stagingBytes

    static func pattern(_ count: Int) -> [UInt8] {
        var state: UInt32 = 0x9E37_79B9
        return (0..<count).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
    }

    static func write(_ bytes: [UInt8], to path: String, chunk: Int) throws -> ContentHash {
        let writer = try BlobFileWriter(path: path)
        var at = 0
        while at < bytes.count {
            let end = min(bytes.count, at + chunk)
            try bytes[at..<end].withUnsafeBytes { try writer.write($0) }
            at = end
        }
        #expect(writer.size == Int64(bytes.count))
        return try writer.finish()
    }

    @Test(
        "the file holds exactly the bytes taken and the hash is theirs, at every size around the head, the alignment and the staging buffer",
        arguments: [
            0, 1, head - 1, head, head + 1, head + 4095, head + 4096, head + 4097, head + staging,
            head + staging + 123, 3 * staging + 7,
        ], [1000, 65536, 1 << 20])
    func writesEveryByte(size: Int, chunk: Int) throws {
        let dir = try TemporaryDirectory("blobwriter")
        let bytes = Self.pattern(size)
        let hash = try Self.write(bytes, to: dir.sub("blob"), chunk: chunk)
        #expect(hash == ContentHash(bytes: bytes))
        #expect(try FileSystem.readFile(dir.sub("blob")) == bytes)
    }

    @Test("an existing file is emptied first, and tmpfs (/dev/shm) takes the same bytes")
    func emptiesAndWorksOnTmpfs() throws {
        let dir = try TemporaryDirectory("blobwriter")
        try FileSystem.writeFileAtomically(dir.sub("blob"), Self.pattern(5 * Self.staging))
        let bytes = Array(Self.pattern(Self.head + Self.staging + 9).reversed())
        #expect(try Self.write(bytes, to: dir.sub("blob"), chunk: 4000) == ContentHash(bytes: bytes))
        #expect(try FileSystem.readFile(dir.sub("blob")) == bytes)

        let shm = "/dev/shm/casbridge-blobwriter-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(shm) }
        #expect(try Self.write(bytes, to: shm, chunk: 70000) == ContentHash(bytes: bytes))
        #expect(try FileSystem.readFile(shm) == bytes)
    }

    /// Which of the file's pages are in the page cache.
    static func residentPages(_ path: String) throws -> [Bool] {
        let fd = try FileSystem.open(path, O_RDONLY)
        defer { close(fd) }
        var st = stat()
        #expect(fstat(fd, &st) == 0)
        let length = Int(st.st_size)
        let map = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0)
        #expect(map != MAP_FAILED)
        defer { munmap(map, length) }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        var vector = [UInt8](repeating: 0, count: (length + pageSize - 1) / pageSize)
        #expect(mincore(map, length, &vector) == 0)
        return vector.map { $0 & 1 == 1 }
    }

    /// Whether the temporary directory's file system takes `O_DIRECT`.
    static func directWritesSupported() -> Bool {
        guard let dir = try? TemporaryDirectory("blobwriter") else { return false }
        let fd = open(dir.sub("probe"), O_WRONLY | O_CREAT | __O_DIRECT, 0o644)
        if fd >= 0 { close(fd) }
        return fd >= 0
    }

    @Test(
        "past the head, bytes go straight to disk: only the head and the tail stay in memory",
        .enabled(if: directWritesSupported(), "the temporary directory's file system refuses O_DIRECT"))
    func bypassesThePageCache() throws {
        let dir = try TemporaryDirectory("blobwriter")
        let bytes = Self.pattern(Self.head + 3 * Self.staging + 100)
        let path = dir.sub("blob")
        #expect(try Self.write(bytes, to: path, chunk: 100_000) == ContentHash(bytes: bytes))
        let resident = try Self.residentPages(path)
        let headPages = Self.head / 4096
        #expect(resident.prefix(headPages).allSatisfy { $0 }, "the head is where the go command reads build IDs")
        #expect(resident[headPages..<(resident.count - 1)].allSatisfy { !$0 }, "the rest was written directly")
        #expect(try FileSystem.readFile(path) == bytes, "and reads back from disk")
    }

    @Test(
        "of a package archive, only the first page stays in memory besides the tail",
        .enabled(if: directWritesSupported(), "the temporary directory's file system refuses O_DIRECT"))
    func archivesKeepASmallerHead() throws {
        let dir = try TemporaryDirectory("blobwriter")
        let bytes = Array("!<arch>\n__.PKGDEF".utf8) + Self.pattern(Self.head + Self.staging + 100)
        let path = dir.sub("archive")
        #expect(try Self.write(bytes, to: path, chunk: 65536) == ContentHash(bytes: bytes))
        let resident = try Self.residentPages(path)
        let headPages = BlobFileWriter.archiveHeadBytes / 4096
        #expect(resident.prefix(headPages).allSatisfy { $0 }, "the go command reads 1 KiB of an archive")
        #expect(resident[headPages..<(resident.count - 1)].allSatisfy { !$0 })
        #expect(try FileSystem.readFile(path) == bytes)
    }
}
