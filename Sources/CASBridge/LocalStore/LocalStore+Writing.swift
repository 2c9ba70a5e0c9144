import Glibc

extension LocalStore {
    /// A temporary file in the store (a `BlobReceiver`'s, or a scratch file).
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

    /// Publishes content a `BlobReceiver` verified, records it under `actionID` if one is
    /// given, and returns the blob's path. The temporary file is consumed.
    ///
    /// An existing verified blob is never rewritten; an existing corrupt one is replaced.
    @discardableResult
    package func publish(_ blob: consuming BlobReceiver.Verified, actionID: Digest?, time: Timestamp) throws -> String {
        let (path, digest, size) = (blob.temp, blob.hash.digest, blob.hash.size)
        let target = blobPath(digest)
        lockShared()
        defer { unlock() }
        var stamp: BlobStamp? = nil
        var wrote = false
        if let existing = FileSystem.status(target) {
            let known = knownStamp(digest)
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
        let writtenTime = ContinuousClock.now
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
        let now = ContinuousClock.now
        let fresh = state.withLock { st in LocalStore.freshlyWritten(entry.outputID, in: st, now: now) }
        // The blob is looked at under the shared lock: a trim (exclusive) cannot remove it between the look and
        // the record.
        lockShared()
        defer { unlock() }
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
        try append([IndexRecord(actionID: actionID, entry: entry, lastUse: .now(), stamp: stamp)])
    }
}
