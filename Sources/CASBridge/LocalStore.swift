import Glibc
import Synchronization

/// The local content-addressed store: an append-only cache directory shared by any
/// number of processes.
///
/// Layout under `directory/v1`: `blobs/XX/<sha256 hex>` (read-only, never rewritten once
/// published), `index` (append-only fixed-size records, see `IndexRecord`), `tmp/`,
/// `lock` (shared while appending, exclusive while trimming) and `runs.log`.
public final class LocalStore: Sendable {
    /// The directory the store was opened at.
    public let directory: String
    let root: String
    let blobRoot: String
    let tempRoot: String
    let indexPath: String
    let lockFD: Int32
    /// Touched by every trim; automatic trims wait for it to age.
    let trimMarkerPath: String

    /// A local hit is re-recorded as used once its last recorded use is this old.
    static let touchInterval: Int64 = 10 * 60 * 1_000_000_000
    /// A blob whose stamp was found unchanged this recently is served without another look.
    static let checkFreshness: Int64 = 10 * 1_000_000_000
    /// Entries used within this window are never trimmed.
    public static let protectionWindow: Int64 = 60 * 60 * 1_000_000_000

    struct Indexed {
        var entry: ActionEntry
        var lastUse: Timestamp
    }

    struct State: ~Copyable {
        var indexFD: Int32
        var readOffset: Int64 = 0
        var entries: [Digest: Indexed] = [:]
        var stamps: [Digest: BlobStamp] = [:]
        /// Output IDs in the order their records were read or written: the most recent last.
        var recordOrder: [Digest] = []
        /// When (monotonic nanoseconds) each blob's stamp was last found unchanged.
        var checkedAt: [Digest: Int64] = [:]
        /// When (monotonic nanoseconds) this process wrote each blob it published. Within
        /// `checkFreshness` of that, the remote tier's hits count and record it without another
        /// look at the file (trimming leaves a blob that young alone).
        var writtenAt: [Digest: Int64] = [:]
        var precheck = Precheck()
    }

    let state: Mutex<State>

    /// The default directory: `$XDG_CACHE_HOME/casbridge`, else `~/.cache/casbridge`.
    public static var defaultDirectory: String {
        if let xdg = getenv("XDG_CACHE_HOME"), xdg.pointee != 0 {
            let path = String(cString: xdg)
            if path.hasPrefix("/") { return "\(path)/casbridge" }
        }
        return "\(FileSystem.homeDirectory)/.cache/casbridge"
    }

    /// Opens (creating if needed) the store in `directory` and loads its index.
    public init(directory: String) throws {
        self.directory = FileSystem.absolute(directory)
        root = "\(self.directory)/v1"
        blobRoot = "\(root)/blobs"
        tempRoot = "\(root)/tmp"
        indexPath = "\(root)/index"
        trimMarkerPath = "\(root)/trimmed"
        let fd: Int32
        do {
            fd = try FileSystem.open(indexPath, O_RDWR | O_APPEND | O_CREAT)
        } catch {
            do {
                try FileSystem.makeDirectories(blobRoot)
                try FileSystem.makeDirectories(tempRoot)
                fd = try FileSystem.open(indexPath, O_RDWR | O_APPEND | O_CREAT)
                // A new store has nothing to trim for a while: its first close need not look.
                if let marker = try? FileSystem.open(trimMarkerPath, O_WRONLY | O_CREAT) { close(marker) }
            } catch {
                throw CASError(
                    .io, "cannot open the local store at \(self.directory)",
                    cause: error as? SystemError)
            }
        }
        do {
            lockFD = try FileSystem.open("\(root)/lock", O_RDWR | O_CREAT)
        } catch {
            close(fd)
            throw CASError(.io, "cannot open the lock file of \(root)", cause: error as? SystemError)
        }
        state = Mutex(State(indexFD: fd))
        state.withLock { st in LocalStore.refresh(&st, indexPath: self.indexPath) }
    }

    deinit {
        state.withLock { _ = close($0.indexFD) }
        close(lockFD)
    }

    /// The path of blob `digest` in this store (whether or not it exists).
    public func blobPath(_ digest: Digest) -> String {
        let hex = digest.hex
        return "\(blobRoot)/\(hex.prefix(2))/\(hex)"
    }

    // MARK: Reading

    /// A verified local hit: the entry and the path of its blob.
    public struct Hit: Sendable {
        /// The action's entry.
        public var entry: ActionEntry
        /// The absolute path of the output's blob, without extension.
        public var path: String
    }

    /// Looks up `actionID`. A hit's blob exists and still has the content it was stored
    /// with: a blob whose size, change time or inode changed is re-hashed, and a blob that
    /// no longer matches its digest is removed and reported as a miss.
    public func lookup(_ actionID: Digest) -> Hit? {
        let now = Timestamp.now()
        let checkTime = Monotonic.nanoseconds()
        let found: (Indexed, BlobStamp?, Bool, Bool)? = state.withLock { st in
            var indexed = st.entries[actionID]
            if indexed == nil {
                LocalStore.refresh(&st, indexPath: indexPath)
                indexed = st.entries[actionID]
            }
            guard let indexed else { return nil }
            let output = indexed.entry.outputID
            let checked = LocalStore.isFresh(st.checkedAt[output], now: checkTime)
            return (indexed, st.stamps[output], checked, st.precheck.noteLookup())
        }
        guard let (indexed, stamp, checked, startPrecheck) = found else { return nil }
        if startPrecheck { schedulePrecheck() }
        let path = blobPath(indexed.entry.outputID)
        let needsTouch = now.nanoseconds - indexed.lastUse.nanoseconds > LocalStore.touchInterval
        if checked, !needsTouch { return Hit(entry: indexed.entry, path: path) }
        if needsTouch { lockShared() }
        defer { if needsTouch { unlock() } }
        guard let current = FileSystem.status(path) else { return nil }
        var verified = BlobStamp(current)
        var changed = false
        if verified != stamp {
            guard let (digest, size) = try? FileSystem.hashFile(path),
                digest == indexed.entry.outputID, size == indexed.entry.size
            else {
                quarantine(path)
                return nil
            }
            verified = FileSystem.status(path).map(BlobStamp.init) ?? verified
            changed = true
        }
        if needsTouch || changed {
            let record = IndexRecord(
                actionID: actionID, entry: indexed.entry,
                lastUse: needsTouch ? now : indexed.lastUse, stamp: verified)
            try? append([record])
        }
        return Hit(entry: indexed.entry, path: path)
    }

    /// Whether this process's view of the index names blob `digest`: no file system access,
    /// so it may be out of date either way (`hasBlob` checks the file).
    public func knowsBlob(_ digest: Digest) -> Bool {
        state.withLock { $0.stamps[digest] != nil }
    }

    /// Whether the store holds a verified copy of blob `digest`. A blob this process wrote, or
    /// found unchanged, within `checkFreshness` counts without another look.
    public func hasBlob(_ digest: Digest) -> Bool {
        let now = Monotonic.nanoseconds()
        let fresh = state.withLock { st in
            LocalStore.freshlyWritten(digest, in: st, now: now) != nil
                || LocalStore.isFresh(st.checkedAt[digest], now: now)
        }
        if fresh { return true }
        let path = blobPath(digest)
        guard let st = FileSystem.status(path) else { return false }
        let known = state.withLock { $0.stamps[digest] }
        if known == BlobStamp(st) { return true }
        guard let (d, _) = try? FileSystem.hashFile(path), d == digest else { return false }
        return true
    }

    /// The number of entries currently known.
    public var entryCount: Int { state.withLock { $0.entries.count } }

    // MARK: Writing

    /// A temporary file in the store, to be published with `publish`.
    public struct TempFile: Sendable {
        /// Its open descriptor, for writing.
        public let fd: Int32
        /// Its path.
        public let path: String
    }

    /// Creates a temporary file on the store's file system. Given the digest it will be
    /// published as, the file is made in that blob's own directory (a hidden name that
    /// trimming removes once it is an hour old), so concurrent writers do not queue on one
    /// directory and publishing renames within a directory.
    public func makeTempFile(for digest: Digest? = nil) throws -> TempFile {
        let directory: String
        let name: String
        if let digest {
            directory = "\(blobRoot)/\(digest.hex.prefix(2))"
            name = "\(directory)/.tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        } else {
            directory = tempRoot
            name = "\(directory)/put-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        }
        do {
            let fd = try FileSystem.open(name, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644)
            return TempFile(fd: fd, path: name)
        } catch {
            try FileSystem.makeDirectories(directory)
            let fd = try FileSystem.open(name, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644)
            return TempFile(fd: fd, path: name)
        }
    }

    /// Publishes a closed temporary file whose content the caller has verified to be
    /// `digest` of `size` bytes, records `entry` under `actionID` if one is given, and
    /// returns the blob's path. The temporary file is consumed.
    ///
    /// An existing verified blob is never rewritten; an existing corrupt one is replaced.
    @discardableResult
    public func publish(temp path: String, digest: Digest, size: Int64, actionID: Digest?, time: Timestamp)
        throws -> String
    {
        let target = blobPath(digest)
        lockShared()
        defer { unlock() }
        var stamp: BlobStamp? = nil
        var wrote = false
        if let existing = FileSystem.status(target) {
            let known = state.withLock { $0.stamps[digest] }
            if known == BlobStamp(existing) {
                stamp = known
            } else if let (d, s) = try? FileSystem.hashFile(target), d == digest, s == size {
                stamp = BlobStamp(existing)
            }
        }
        if stamp != nil {
            unlink(path)
        } else {
            chmod(path, 0o444)
            do {
                try FileSystem.rename(path, target)
            } catch let error as SystemError where error.errno == ENOENT {
                try FileSystem.makeDirectories(String(target[..<target.lastIndex(of: "/")!]))
                try FileSystem.rename(path, target)
            } catch {
                unlink(path)
                throw CASError(.io, "cannot publish blob \(digest) at \(target)", cause: error as? SystemError)
            }
            guard let st = FileSystem.status(target) else {
                throw CASError(.io, "blob \(digest) vanished after publishing at \(target)")
            }
            stamp = BlobStamp(st)
            wrote = true
        }
        let blobStamp = stamp!
        if let actionID {
            let entry = ActionEntry(outputID: digest, size: size, time: time)
            try append([IndexRecord(actionID: actionID, entry: entry, lastUse: .now(), stamp: blobStamp)])
        }
        let writtenTime = Monotonic.nanoseconds()
        state.withLock { st in
            st.stamps[digest] = blobStamp
            if wrote { st.writtenAt[digest] = writtenTime }
        }
        return target
    }

    /// Records `entry` for `actionID`; its blob must be in the store already. A blob this
    /// process wrote within `checkFreshness` is recorded with the stamp it was published with,
    /// without another look.
    public func record(_ entry: ActionEntry, for actionID: Digest) throws {
        let now = Monotonic.nanoseconds()
        let fresh = state.withLock { st in LocalStore.freshlyWritten(entry.outputID, in: st, now: now) }
        let stamp: BlobStamp
        if let fresh {
            stamp = fresh
        } else {
            let path = blobPath(entry.outputID)
            guard let st = FileSystem.status(path) else {
                throw CASError(.notFound, "blob \(entry.outputID) is not in the local store at \(path)")
            }
            stamp = BlobStamp(st)
        }
        lockShared()
        defer { unlock() }
        try append([IndexRecord(actionID: actionID, entry: entry, lastUse: .now(), stamp: stamp)])
    }

    /// Appends records to the index (the caller may hold the shared lock already) and
    /// applies them to the in-memory view.
    func append(_ records: [IndexRecord]) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(records.count * IndexRecord.size)
        for r in records { r.encode(into: &bytes) }
        try state.withLock { st in
            var info = stat()
            if fstat(st.indexFD, &info) == 0, info.st_nlink == 0 {
                // The index was compacted by a trim: follow it to the new file.
                LocalStore.reopen(&st, indexPath: indexPath)
            }
            try FileSystem.writeAll(st.indexFD, bytes, path: indexPath)
            // Records this process just wrote need not be read back: when they directly follow
            // what was read last, the next refresh starts after them.
            let end = Int64(lseek(st.indexFD, 0, SEEK_CUR))
            if end >= 0, end - Int64(bytes.count) == st.readOffset { st.readOffset = end }
            for r in records { LocalStore.apply(r, to: &st) }
        }
    }

    // MARK: Index maintenance

    static func apply(_ r: IndexRecord, to st: inout State) {
        let previousUse = st.entries[r.actionID]?.lastUse ?? r.lastUse
        st.entries[r.actionID] = Indexed(entry: r.entry, lastUse: max(previousUse, r.lastUse))
        if let old = st.stamps.updateValue(r.stamp, forKey: r.entry.outputID), old != r.stamp {
            st.checkedAt[r.entry.outputID] = nil
        }
        st.recordOrder.append(r.entry.outputID)
    }

    /// Whether `time` (monotonic nanoseconds; nil for never) lies within `checkFreshness` of `now`.
    static func isFresh(_ time: Int64?, now: Int64) -> Bool {
        time.map { now - $0 < checkFreshness } ?? false
    }

    /// The stamp of blob `digest` if this process wrote it within `checkFreshness` of `now`.
    static func freshlyWritten(_ digest: Digest, in st: borrowing State, now: Int64) -> BlobStamp? {
        isFresh(st.writtenAt[digest], now: now) ? st.stamps[digest] : nil
    }

    static func reopen(_ st: inout State, indexPath: String) {
        guard let fd = try? FileSystem.open(indexPath, O_RDWR | O_APPEND | O_CREAT) else { return }
        close(st.indexFD)
        st.indexFD = fd
        st.readOffset = 0
        st.entries.removeAll(keepingCapacity: true)
        st.stamps.removeAll(keepingCapacity: true)
        st.recordOrder.removeAll(keepingCapacity: true)
        st.checkedAt.removeAll(keepingCapacity: true)
        st.precheck.restart()
    }

    /// Reads records appended since the last read (by this or other processes).
    static func refresh(_ st: inout State, indexPath: String) {
        var info = stat()
        guard fstat(st.indexFD, &info) == 0 else { return }
        if info.st_nlink == 0 {
            reopen(&st, indexPath: indexPath)
            guard fstat(st.indexFD, &info) == 0 else { return }
        }
        let end = Int64(info.st_size)
        guard end > st.readOffset,
            let bytes = try? FileSystem.pread(
                st.indexFD, count: Int(end - st.readOffset), at: st.readOffset, path: indexPath)
        else { return }
        let consumed = bytes.withUnsafeBytes { raw -> Int in
            var offset = 0
            if st.entries.isEmpty {
                st.entries.reserveCapacity(raw.count / IndexRecord.size)
                st.recordOrder.reserveCapacity(raw.count / IndexRecord.size)
            }
            while offset + IndexRecord.size <= raw.count {
                if let r = IndexRecord.decode(UnsafeRawBufferPointer(rebasing: raw[offset...])) {
                    apply(r, to: &st)
                    offset += IndexRecord.size
                } else if offset + IndexRecord.size == raw.count {
                    // Possibly a record still being written: read it again next time.
                    break
                } else {
                    offset += 1  // Resynchronise after a torn record.
                }
            }
            return offset
        }
        st.readOffset += Int64(consumed)
    }

    func lockShared() { while flock(lockFD, LOCK_SH) != 0 && errno == EINTR {} }
    func unlock() { flock(lockFD, LOCK_UN) }

    /// Moves a corrupt blob out of the way so it is never served again.
    func quarantine(_ path: String) {
        let aside = "\(tempRoot)/corrupt-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        if Glibc.rename(path, aside) == 0 { unlink(aside) }
    }
}
