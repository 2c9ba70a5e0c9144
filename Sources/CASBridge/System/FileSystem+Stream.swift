import Glibc

extension FileSystem {
    /// Passes everything readable from `fd`, from its current offset, to `body` in pieces
    /// of up to 256 KiB.
    public static func stream(fd: Int32, path: String = "", _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress!, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("read \(path)", errno: errno)
            }
            if n == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }

    /// Passes the content of the file at `path` to `body` in pieces.
    public static func stream(_ path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        try stream(fd: fd, path: path, body)
    }

    /// Creates a new empty file under `$TMPDIR` (or `/tmp`) named after `prefix`, open for
    /// writing.
    public static func makeTemporaryFile(prefix: String) throws -> (fd: Int32, path: String) {
        var dir = "/tmp"
        if let t = getenv("TMPDIR"), t.pointee != 0 { dir = String(cString: t) }
        var template = Array("\(dir)/\(prefix)-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw SystemError("create a temporary file in \(dir)", errno: errno) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return (fd, template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
    }
}
