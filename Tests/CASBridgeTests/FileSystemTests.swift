import CASBridge
import CASBridgeTestSupport
import Foundation
import Testing

@Suite("File system")
struct FileSystemTests {
    @Test("an atomic write replaces a regular file and leaves no temporary file behind")
    func atomicWriteOfRegularFile() throws {
        let dir = try TemporaryDirectory("filesystem")
        let path = dir.sub("stats.json")
        try FileSystem.writeFileAtomically(path, Array("old".utf8))
        try FileSystem.writeFileAtomically(path, Array("new".utf8))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["stats.json"])
    }

    @Test("an atomic write to a FIFO (like /dev/null) writes into it instead of replacing it with a file")
    func atomicWriteOfSpecialFile() throws {
        let dir = try TemporaryDirectory("filesystem")
        let path = dir.sub("fifo")
        #expect(mkfifo(path, 0o600) == 0)
        let reader = open(path, O_RDONLY | O_NONBLOCK)
        #expect(reader >= 0)
        defer { close(reader) }
        try FileSystem.writeFileAtomically(path, Array("{\"gets\":1}\n".utf8))
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(reader, &buffer, buffer.count)
        #expect(count == 11)
        #expect(String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self) == "{\"gets\":1}\n")
        var st = stat()
        #expect(lstat(path, &st) == 0)
        #expect(st.st_mode & S_IFMT == S_IFIFO)
    }
}
