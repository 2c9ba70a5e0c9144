public import Glibc

private let systemStat: @convention(c) (UnsafePointer<CChar>, UnsafeMutablePointer<stat>) -> Int32 = stat

/// Thin, throwing wrappers over the POSIX calls the stores use.
public enum FileSystem {
    /// Opens `path` with `flags`, retrying on EINTR.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw SystemError("open \(path)", errno: errno) }
        }
    }

    /// Opens `path` for writing from its start: creates it if needed and empties it if it
    /// has content. Unlike `O_TRUNC`, an already empty file (a fresh temporary file) is not
    /// truncated: on ext4 a truncation to zero makes the file's close start writing it to
    /// disk (`auto_da_alloc`), a synchronous block allocation and I/O for every download.
    public static func openEmptied(_ path: String, mode: mode_t = 0o644) throws -> Int32 {
        let fd = try open(path, O_WRONLY | O_CREAT, mode: mode)
        var st = stat()
        if fstat(fd, &st) == 0 && st.st_size == 0 { return fd }
        if ftruncate(fd, 0) != 0 {
            let error = SystemError("truncate \(path)", errno: errno)
            close(fd)
            throw error
        }
        return fd
    }

    /// Writes all of `bytes` to `fd`.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String = "")
        throws
    {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("write \(path)", errno: errno)
            }
            offset += n
        }
    }

    /// Writes all of `bytes` to `fd` at `offset`.
    public static func pwriteAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String = "")
        throws
    {
        var done = 0
        while done < bytes.count {
            let n = Glibc.pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("write \(path)", errno: errno)
            }
            done += n
        }
    }

    /// Writes all of `bytes` to `fd`.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String = "") throws {
        try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path) }
    }

    /// Reads up to `count` bytes at `offset`; returns fewer only at end of file.
    public static func pread(_ fd: Int32, count: Int, at offset: Int64, path: String = "") throws
        -> [UInt8]
    {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        try out.withUnsafeMutableBytes { raw in
            while got < count {
                let n = Glibc.pread(fd, raw.baseAddress! + got, count - got, off_t(offset) + off_t(got))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SystemError("read \(path)", errno: errno)
                }
                if n == 0 { break }
                got += n
            }
        }
        out.removeLast(count - got)
        return out
    }

    /// Reads a whole file.
    public static func readFile(_ path: String) throws -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SystemError("stat \(path)", errno: errno) }
        var result = try pread(fd, count: Int(st.st_size), at: 0, path: path)
        while true {
            let more = try pread(fd, count: 65536, at: Int64(result.count), path: path)
            if more.isEmpty { break }
            result += more
        }
        return result
    }

    /// Writes a whole file atomically: a temporary file beside it, then a rename.
    ///
    /// A path that names something other than a regular file (`/dev/null`, a FIFO, a terminal) is written in place:
    /// renaming over it would replace the device with a regular file.
    public static func writeFileAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644)
        throws
    {
        if let st = status(path), st.st_mode & S_IFMT != S_IFREG {
            let fd = try open(path, O_WRONLY)
            defer { close(fd) }
            try writeAll(fd, bytes, path: path)
            return
        }
        let temp = "\(path).tmp.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let fd = try open(temp, O_WRONLY | O_CREAT | O_EXCL, mode: mode)
        do {
            try writeAll(fd, bytes, path: temp)
            close(fd)
            try rename(temp, path)
        } catch {
            close(fd)
            unlink(temp)
            throw error
        }
    }

    /// Renames `from` to `to`, replacing `to`.
    public static func rename(_ from: String, _ to: String) throws {
        if Glibc.rename(from, to) != 0 {
            throw SystemError("rename \(from) to \(to)", errno: errno)
        }
    }

    /// Creates a directory and its parents; existing directories are fine.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        if mkdir(path, mode) == 0 || errno == EEXIST { return }
        guard errno == ENOENT else { throw SystemError("mkdir \(path)", errno: errno) }
        let parent = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !parent.isEmpty, parent != path { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw SystemError("mkdir \(path)", errno: errno)
        }
    }

    /// Returns `stat` for `path`, or nil when it does not exist.
    public static func status(_ path: String) -> stat? {
        var st = stat()
        return systemStat(path, &st) == 0 ? st : nil
    }

    /// Whether `path` exists.
    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Lists the names in a directory, without `.` and `..`.
    public static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Removes a file or a directory tree. Missing paths are fine.
    public static func removeTree(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            chmod(path, 0o755)
            for name in list(path) { removeTree("\(path)/\(name)") }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// Hashes a file's content with SHA-256 and returns the digest and size.
    public static func hashFile(_ path: String) throws -> (Digest, Int64) {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        return try hash(fd: fd, path: path)
    }

    /// Hashes everything readable from `fd` from its current offset.
    public static func hash(fd: Int32, path: String = "") throws -> (Digest, Int64) {
        var hasher = SHA256()
        var total: Int64 = 0
        try stream(fd: fd, path: path) { piece in
            hasher.update(piece)
            total += Int64(piece.count)
        }
        return (hasher.finalize(), total)
    }

    /// The user's home directory.
    public static var homeDirectory: String {
        if let home = getenv("HOME"), home.pointee != 0 { return String(cString: home) }
        if let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir { return String(cString: dir) }
        return "/tmp"
    }

    /// Makes `path` absolute against the current directory.
    public static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX))
        guard getcwd(&buf, buf.count) != nil else { return path }
        let cwd = buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return path == "." ? cwd : "\(cwd)/\(path)"
    }
}

extension FileSystem {
    /// Copies the file at `from` to a new or truncated file at `to`.
    public static func copyFile(_ from: String, to: String) throws {
        let input = try open(from, O_RDONLY)
        defer { close(input) }
        let output = try openEmptied(to)
        defer { close(output) }
        try stream(fd: input, path: from) { try writeAll(output, $0, path: to) }
    }
}
