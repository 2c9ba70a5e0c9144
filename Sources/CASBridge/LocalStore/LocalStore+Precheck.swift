import Dispatch

extension LocalStore {
    /// Starts checking blob stamps on a background thread, ahead of the lookups.
    ///
    /// A lookup must not serve a blob that changed since it was stored; it compares the
    /// blob's size, change time and inode with the recorded stamp. Doing that on the request
    /// path costs a system call per hit, which the go command feels as latency on every get.
    /// The checks start with the most recently recorded or used blobs (the journal's newest
    /// records, then the table's recency list), the ones a build is about to ask for; a lookup
    /// whose blob was found unchanged within the last `checkFreshness` is answered without
    /// another look. Others are checked inline as before.
    public func startPrecheck() {
        let start = state.withLock { st -> Bool in
            st.precheck.enabled = true
            return st.precheck.claim()
        }
        if start { schedulePrecheck() }
    }

    /// Stops the background checks (a running batch finishes its current blob list).
    public func stopPrecheck() {
        state.withLock { $0.precheck.enabled = false }
    }

    /// Whether the background checks found blob `digest` unchanged within `checkFreshness`.
    func isPrechecked(_ digest: Digest) -> Bool {
        let now = ContinuousClock.now
        return state.withLock { st in LocalStore.isFresh(st.checked[digest]?.at, now: now) }
    }

    /// Whether blob `digest` was found unchanged by a check at any time, fresh or not: what
    /// tests ask after waiting for the checks, which a loaded machine may keep from asking
    /// within `checkFreshness`.
    func wasPrechecked(_ digest: Digest) -> Bool {
        state.withLock { $0.checked[digest] != nil }
    }

    /// Whether a batch of background checks is running or scheduled.
    var isPrechecking: Bool { state.withLock { $0.precheck.running } }

    func schedulePrecheck() {
        DispatchQueue.global(qos: .utility).async { [self] in runPrecheck() }
    }

    /// The next batch of candidates: the journal's, newest first, under the lock; then the
    /// table's recency list, read outside it so lookups never wait on the table's file. Also
    /// returns how many candidates were taken: the checks' budget counts those, not the blobs
    /// picked, so a list where many entries share one blob is not read to its end.
    private func nextBatch() -> (picked: [(Digest, BlobStamp)], taken: Int)? {
        var picked: [(Digest, BlobStamp)] = []
        var taken = 0
        var seen = Set<Digest>()
        let tablePart: (IndexTable, Range<Int>)? = state.withLock { st in
            guard st.precheck.enabled else { return nil }
            if !st.journalRead { refresh(&st) }
            let journalCount = st.journalOrder.count
            while picked.count < Precheck.batchSize, st.precheck.position < journalCount {
                let digest = st.journalOrder[journalCount - 1 - st.precheck.position]
                st.precheck.position += 1
                taken += 1
                guard st.checked[digest] == nil, let stamp = st.stamps[digest], seen.insert(digest).inserted
                else { continue }
                picked.append((digest, stamp))
            }
            let wanted = Precheck.batchSize - picked.count
            guard wanted > 0, let table = st.table else {
                if picked.isEmpty { st.precheck.exhausted = true }
                return nil
            }
            let first = st.precheck.position - journalCount
            st.precheck.position += wanted
            if first + wanted >= table.recencyCount { st.precheck.exhausted = true }
            return (table, first..<(first + wanted))
        }
        if let (table, range) = tablePart {
            let slots = table.recentSlots(range)
            taken += slots.count
            for slot in slots {
                guard let record = table.record(at: slot), seen.insert(record.entry.outputID).inserted else { continue }
                picked.append((record.entry.outputID, record.stamp))
            }
        }
        let done = picked.isEmpty && state.withLock { $0.precheck.exhausted || !$0.precheck.enabled }
        return done ? nil : (picked, taken)
    }

    private func runPrecheck() {
        while true {
            guard let (batch, taken) = nextBatch() else {
                state.withLock { $0.precheck.running = false }
                return
            }
            let unchanged = batch.filter { digest, stamp in
                FileSystem.status(blobPath(digest)).map(BlobStamp.init) == stamp
            }
            let now = ContinuousClock.now
            let more = state.withLock { st -> Bool in
                for (digest, stamp) in unchanged where (LocalStore.knownStamp(digest, in: st) ?? stamp) == stamp {
                    st.checked[digest] = Check(at: now, stamp: stamp)
                }
                st.precheck.checked += taken
                if st.precheck.wantsMore { return true }
                st.precheck.running = false
                return false
            }
            if !more { return }
        }
    }
}
