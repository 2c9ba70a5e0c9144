import Glibc
import Synchronization

/// Writes a downloaded blob into a new file of the local store and hashes it on the way.
///
/// The go command reads only the first bytes of a cached output in a build that finds it (the
/// build ID: 1 KiB of a package archive, 32 KiB of a binary), so only the first
/// `headBytes` (`archiveHeadBytes` of a package archive) go through the page cache. The rest is written straight to disk
/// (`O_DIRECT`, in aligned blocks) and reaches memory only if something reads it. Filling an
/// empty store from a remote therefore neither copies every byte into new page-cache pages
/// (on a virtual machine whose host backs memory lazily, each such page also costs the host
/// a fault: a third of the helper's CPU time in such a build) nor leaves hundreds of MiB of
/// dirty pages for write-back. Where `O_DIRECT` is refused (tmpfs, some network file
/// systems), every byte is written through the page cache as usual.
///
/// A writer is a `BlobSink`: `restart()` empties the file and the hash, so a read retried
/// after a partial failure starts over cleanly. After a failed write, later writes only hash
/// (the caller learns what arrived) and throw that failure again.
///
/// Used by one thread at a time; `finish()` closes the file.
public final class BlobFileWriter: BlobSink, @unchecked Sendable {
    /// Bytes at the start of a file that are written through the page cache.
    public static let headBytes = 32 << 10
    /// The same for a package archive (`!<arch>\n`), of which the go command reads 1 KiB.
    public static let archiveHeadBytes = 4 << 10
    static let archiveMagic = Array("!<arch>\n".utf8)
    static let stagingBytes = 512 << 10
    static let alignment = 4096

    /// The file being written.
    public let path: String
    private var fd: Int32
    private var hasher: SHA256? = SHA256()
    private var failure: (any Error)?
    private var taken: Int64 = 0
    private var written: Int64 = 0
    private var staging: UnsafeMutableRawPointer?
    private var staged = 0
    private var directSet = false
    private var head = BlobFileWriter.headBytes
    private let directAllowed: Bool

    /// Creates or empties the file at `path` and writes to it from its start.
    public convenience init(path: String) throws {
        try self.init(fd: FileSystem.openEmptied(path), path: path)
    }

    /// Writes to `fd`, an open, empty file at `path`; the writer owns the descriptor. With
    /// `throughPageCache`, every byte goes through the page cache (a put: the go command
    /// reads the file it just stored).
    public init(fd: Int32, path: String, throughPageCache: Bool = false) {
        self.fd = fd
        self.path = path
        directAllowed = !throughPageCache && BlobFileWriter.directWorks.load(ordering: .relaxed)
    }

    deinit {
        abandon()
        if let staging { BlobFileWriter.recycleStaging(staging) }
    }

    /// Bytes taken so far.
    public var size: Int64 { taken }

    /// Empties the file and forgets what was taken, for another attempt at the same blob.
    public func restart() throws {
        guard fd >= 0 else { throw SystemError("write \(path)", errno: EBADF) }
        hasher = SHA256()
        failure = nil
        staged = 0
        head = BlobFileWriter.headBytes
        defer { taken = 0 }
        guard written > 0 || taken > 0 else { return }
        written = 0
        guard ftruncate(fd, 0) == 0 else { throw SystemError("ftruncate \(path)", errno: errno) }
    }

    /// Appends `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard fd >= 0 else { throw SystemError("write \(path)", errno: EBADF) }
        hasher?.update(bytes)
        if taken == 0, bytes.starts(with: BlobFileWriter.archiveMagic) { head = BlobFileWriter.archiveHeadBytes }
        taken += Int64(bytes.count)
        if let failure { throw failure }
        do {
            try store(bytes)
        } catch {
            failure = error
            throw error
        }
    }

    private func store(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes
        if staging == nil {
            let n = min(rest.count, directAllowed ? max(0, head - Int(written)) : rest.count)
            if n > 0 {
                try writeThrough(UnsafeRawBufferPointer(rebasing: rest[..<n]))
                rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            }
            if rest.isEmpty { return }
            staging = BlobFileWriter.takeStaging()
        }
        while !rest.isEmpty {
            let n = min(rest.count, BlobFileWriter.stagingBytes - staged)
            (staging! + staged).copyMemory(from: rest.baseAddress!, byteCount: n)
            staged += n
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            if staged == BlobFileWriter.stagingBytes { try writeStaged(staged) }
        }
    }

    /// Writes what is left, closes the file and returns the hash of every byte taken; throws
    /// (closing the file) if a write failed.
    public func finish() throws -> ContentHash {
        guard fd >= 0 else { throw SystemError("write \(path)", errno: EBADF) }
        if let failure {
            abandon()
            throw failure
        }
        let aligned = staged & ~(BlobFileWriter.alignment - 1)
        if aligned > 0 { try writeStaged(aligned) }
        if staged > 0 {
            let tail = UnsafeRawBufferPointer(start: staging, count: staged)
            try writeThrough(tail)
            staged = 0
        }
        close(fd)
        fd = -1
        return ContentHash(digest: hasher.take()!.finalize(), size: taken)
    }

    /// Closes the file without writing what is staged (the caller removes it) and returns
    /// the hash of every byte taken, written or not (nil once the file is closed).
    @discardableResult
    public func abandon() -> ContentHash? {
        guard fd >= 0 else { return nil }
        close(fd)
        fd = -1
        staged = 0
        guard let hasher = hasher.take() else { return nil }
        return ContentHash(digest: hasher.finalize(), size: taken)
    }

    /// Writes the first `count` staged bytes (a multiple of the alignment) at the end of the
    /// file, directly if allowed, and keeps the rest staged.
    private func writeStaged(_ count: Int) throws {
        let bytes = UnsafeRawBufferPointer(start: staging, count: count)
        if directAllowed, BlobFileWriter.directWorks.load(ordering: .relaxed), setDirect(true) {
            do {
                try FileSystem.pwriteAll(fd, bytes, at: written, path: path)
                written += Int64(count)
            } catch let error as SystemError where error.errno == EINVAL {
                BlobFileWriter.directWorks.store(false, ordering: .relaxed)
                try writeThrough(bytes)
            }
        } else {
            try writeThrough(bytes)
        }
        staged -= count
        if staged > 0 { staging!.copyMemory(from: staging! + count, byteCount: staged) }
    }

    private func writeThrough(_ bytes: UnsafeRawBufferPointer) throws {
        if directSet { _ = setDirect(false) }
        try FileSystem.pwriteAll(fd, bytes, at: written, path: path)
        written += Int64(bytes.count)
    }

    /// Turns `O_DIRECT` on or off for the file; false if the file system refuses it.
    private func setDirect(_ on: Bool) -> Bool {
        if directSet == on { return true }
        let flags = fcntl(fd, F_GETFL)
        let wanted = on ? flags | __O_DIRECT : flags & ~__O_DIRECT
        guard flags >= 0, fcntl(fd, F_SETFL, wanted) == 0 else {
            if on { BlobFileWriter.directWorks.store(false, ordering: .relaxed) }
            return false
        }
        directSet = on
        return true
    }

    /// Staging buffers of finished writers, kept for the next ones: a new buffer's pages are
    /// fresh memory, and touching them costs a page fault per 4 KiB.
    private static let spareStaging = Mutex<[UInt]>([])
    private static let spareStagingLimit = 16

    private static func takeStaging() -> UnsafeMutableRawPointer {
        if let spare = spareStaging.withLock({ $0.popLast() }),
            let buffer = UnsafeMutableRawPointer(bitPattern: spare)
        {
            return buffer
        }
        return UnsafeMutableRawPointer.allocate(byteCount: stagingBytes, alignment: alignment)
    }

    private static func recycleStaging(_ buffer: UnsafeMutableRawPointer) {
        let kept = spareStaging.withLock { spare in
            guard spare.count < spareStagingLimit else { return false }
            spare.append(UInt(bitPattern: buffer))
            return true
        }
        if !kept { buffer.deallocate() }
    }

    /// False once a file system refused `O_DIRECT`, or direct writes were turned off, for
    /// the rest of the process.
    private static let directWorks = Atomic<Bool>(true)

    /// Writes every byte of later blobs through the page cache (`CASBRIDGE_DIRECT_WRITES=off`),
    /// for file systems where `O_DIRECT` is accepted but slow.
    public static func turnOffDirectWrites() {
        directWorks.store(false, ordering: .relaxed)
    }
}
