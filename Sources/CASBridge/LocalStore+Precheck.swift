import Dispatch

extension LocalStore {
    /// Starts checking blob stamps on a background thread, ahead of the lookups.
    ///
    /// A lookup must not serve a blob that changed since it was stored; it compares the
    /// blob's size, change time and inode with the recorded stamp. Doing that on the request
    /// path costs a system call per hit, which the go command feels as latency on every get.
    /// The checks start with the most recently recorded blobs, the ones a build is about to
    /// ask for; a lookup whose blob was found unchanged within the last
    /// `checkFreshness` is answered without another look. Others are checked inline as before.
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
        let now = Monotonic.nanoseconds()
        return state.withLock { st in LocalStore.isFresh(st.checkedAt[digest], now: now) }
    }

    /// Whether a batch of background checks is running or scheduled.
    var isPrechecking: Bool { state.withLock { $0.precheck.running } }

    func schedulePrecheck() {
        DispatchQueue.global(qos: .utility).async { [self] in runPrecheck() }
    }

    private func runPrecheck() {
        while true {
            let batch: [(Digest, BlobStamp)]? = state.withLock { st in
                guard st.precheck.enabled else {
                    st.precheck.running = false
                    return nil
                }
                var position = st.precheck.cursor ?? st.recordOrder.count
                var picked: [(Digest, BlobStamp)] = []
                var seen = Set<Digest>()
                while position > 0, picked.count < Precheck.batchSize {
                    position -= 1
                    let digest = st.recordOrder[position]
                    guard st.checkedAt[digest] == nil, let stamp = st.stamps[digest],
                        seen.insert(digest).inserted
                    else { continue }
                    picked.append((digest, stamp))
                }
                st.precheck.cursor = position
                if picked.isEmpty { st.precheck.running = false }
                return picked.isEmpty ? nil : picked
            }
            guard let batch else { return }
            let unchanged = batch.filter { digest, stamp in
                FileSystem.status(blobPath(digest)).map(BlobStamp.init) == stamp
            }
            let now = Monotonic.nanoseconds()
            let more = state.withLock { st -> Bool in
                for (digest, stamp) in unchanged where st.stamps[digest] == stamp {
                    st.checkedAt[digest] = now
                }
                st.precheck.checked += batch.count
                if st.precheck.wantsMore { return true }
                st.precheck.running = false
                return false
            }
            if !more { return }
        }
    }
}
