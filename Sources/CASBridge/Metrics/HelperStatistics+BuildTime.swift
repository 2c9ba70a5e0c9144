extension HelperStatistics {
    /// Notes that a get for `actionID` was answered with a miss: the go command now builds it.
    public func noteMiss(_ actionID: Digest) {
        let now = ContinuousClock.now
        pendingMisses.withLock { $0[actionID] = now }
    }

    /// Notes a put of `actionID`: if a get for it missed earlier in the run, the time since
    /// then is what building it took, which a later hit saves.
    public func notePut(_ actionID: Digest) {
        guard let missed = pendingMisses.withLock({ $0.removeValue(forKey: actionID) }) else { return }
        let took = ContinuousClock.now - missed
        update {
            $0[.builtActions] += 1
            $0.buildTime += took
        }
    }
}
