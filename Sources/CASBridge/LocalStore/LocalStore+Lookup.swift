import Glibc

extension LocalStore {
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
        let checkTime = ContinuousClock.now
        let result: (Found, Bool, Bool)? = state.withLock { st in
            var found = st.journalRead ? LocalStore.find(actionID, in: st) : nil
            if found == nil {
                refresh(&st)
                found = LocalStore.find(actionID, in: st)
            }
            guard let found else { return nil }
            let check = st.checked[found.entry.outputID]
            let checked = check?.stamp == found.stamp && LocalStore.isFresh(check?.at, now: checkTime)
            return (found, checked, st.precheck.noteLookup())
        }
        guard let (found, checked, startPrecheck) = result else { return nil }
        if startPrecheck { schedulePrecheck() }
        let path = blobPath(found.entry.outputID)
        let needsTouch = now - found.lastUse > LocalStore.touchInterval
        if checked, !needsTouch { return Hit(entry: found.entry, path: path) }
        if needsTouch { lockShared() }
        defer { if needsTouch { unlock() } }
        guard let current = FileSystem.status(path) else { return nil }
        var verified = BlobStamp(current)
        var changed = false
        if verified != found.stamp {
            guard let (digest, size) = try? FileSystem.hashFile(path),
                digest == found.entry.outputID, size == found.entry.size
            else {
                quarantine(path)
                return nil
            }
            verified = FileSystem.status(path).map(BlobStamp.init) ?? verified
            changed = true
        }
        let checkedTime = ContinuousClock.now
        state.withLock { $0.checked[found.entry.outputID] = Check(at: checkedTime, stamp: verified) }
        if needsTouch, !changed, let table = found.table, table.isCurrent {
            // A use of a table entry changes its last use time in place: touches do not grow the journal.
            table.touch(slot: found.slot, at: now)
        } else if needsTouch || changed {
            let record = IndexRecord(
                actionID: actionID, entry: found.entry, lastUse: needsTouch ? now : found.lastUse, stamp: verified)
            try? append([record])
        }
        return Hit(entry: found.entry, path: path)
    }

    /// Whether the store has a file for blob `digest`, as far as this process knows or, when
    /// the store has a table (whose blobs are not kept in memory), one `stat` shows. Not
    /// verified (`hasBlob` verifies), so it may be wrong either way.
    public func knowsBlob(_ digest: Digest) -> Bool {
        let known = knownStamp(digest) != nil
        let hasTable = state.withLock { ($0.table?.count ?? 0) > 0 }
        return known || (hasTable && FileSystem.status(blobPath(digest)) != nil)
    }

    /// Whether the store holds a verified copy of blob `digest`. A blob this process wrote, or
    /// found unchanged, within `checkFreshness` counts without another look.
    public func hasBlob(_ digest: Digest) -> Bool {
        let now = ContinuousClock.now
        let fresh = state.withLock { st in
            LocalStore.freshlyWritten(digest, in: st, now: now) != nil
                || LocalStore.isFresh(st.checked[digest]?.at, now: now)
        }
        if fresh { return true }
        let path = blobPath(digest)
        guard let st = FileSystem.status(path) else { return false }
        if knownStamp(digest) == BlobStamp(st) { return true }
        guard let (d, _) = try? FileSystem.hashFile(path), d == digest else { return false }
        let checkTime = ContinuousClock.now
        state.withLock { $0.checked[digest] = Check(at: checkTime, stamp: BlobStamp(st)) }
        return true
    }
}
