/// The warm manifest: which entries the last runs used, so that a run with an empty local
/// store downloads their blobs ahead of the go command's requests, many at once, instead of
/// two round trips per request while the go command waits.
extension RemoteTier {
    struct WarmState: ~Copyable {
        var local: LocalStore?
        /// Loads the manifest; its value maps ActionIDs to entries (empty without one).
        var loading: Task<[Digest: ActionEntry], Never>?
        var loaded: WarmManifest?
        var loadFinished = false
        var prefetcher: Task<Void, Never>?
        var downloads: [Digest: Task<Bool, Never>] = [:]
        var used: [WarmManifest.Record] = []
        var usedIDs = Set<Digest>()
        var stopped = false
    }

    /// Starts loading the warm manifest and prefetching its blobs into `local`, once: on the
    /// first local miss, so runs served entirely from the local store never ask for it.
    public func startWarming(into local: LocalStore) {
        guard let name = manifestName else { return }
        let id = WarmManifest.actionID(named: name)
        warm.withLock { w in
            guard w.loading == nil else { return }
            w.local = local
            w.loading = Task.detached { [self] in
                let manifest = await self.loadManifest(id, name: name, into: local)
                var byAction: [Digest: ActionEntry] = [:]
                for r in manifest?.records ?? [] { byAction[r.actionID] = r.entry }
                warm.withLock { w in
                    w.loaded = manifest
                    w.loadFinished = true
                    if let manifest, !w.stopped {
                        w.prefetcher = Task.detached { [self] in await self.prefetch(manifest, into: local) }
                    }
                }
                if let manifest {
                    statistics.update { $0.manifestRecords = manifest.records.count }
                }
                return byAction
            }
        }
    }

    private func loadManifest(_ id: Digest, name: String, into local: LocalStore) async -> WarmManifest? {
        guard let found = await guarded("get manifest \(name)", { try await store.entry(for: id) }),
            let entry = found
        else { return nil }
        let limit = Int64(WarmManifest.headerSize + WarmManifest.maxRecords * WarmManifest.recordSize)
        guard entry.size <= limit, await blobDownload(entry, into: local).value else { return nil }
        do {
            return try WarmManifest(decoding: FileSystem.readFile(local.blobPath(entry.outputID)))
        } catch {
            logger.warning("remote \(store.name): ignoring warm manifest \(name): \(error)")
            return nil
        }
    }

    private func prefetch(_ manifest: WarmManifest, into local: LocalStore) async {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for record in manifest.records {
                // A failing remote ends the prefetch (without taking the breaker's half-open probe).
                if Task.isCancelled || breaker.position != .closed { break }
                if running >= prefetchConcurrency {
                    await group.next()
                    running -= 1
                }
                let download = blobDownload(record.entry, into: local)
                group.addTask {
                    _ = await download.value
                }
                running += 1
            }
        }
    }

    /// The manifest's entry for `actionID`, once the manifest has loaded.
    func manifestEntry(for actionID: Digest) async -> ActionEntry? {
        guard let loading = warm.withLock({ $0.loading }) else { return nil }
        return await loading.value[actionID]
    }

    /// Notes that the go command used `entry` for `actionID` (a hit or a put), for the
    /// manifest this run writes.
    public func noteUse(_ actionID: Digest, _ entry: ActionEntry) {
        guard mode == .readwrite, manifestName != nil else { return }
        warm.withLock { w in
            if w.used.count < WarmManifest.maxRecords, w.usedIDs.insert(actionID).inserted {
                w.used.append(WarmManifest.Record(actionID: actionID, entry: entry))
            }
        }
    }

    func stopPrefetching() {
        let tasks: [Task<Bool, Never>] = warm.withLock { w in
            w.stopped = true
            w.prefetcher?.cancel()
            return Array(w.downloads.values)
        }
        for t in tasks { t.cancel() }
    }

    /// Queues the upload of this run's manifest, merged with the one it loaded, unless the
    /// loaded one already starts with exactly the entries this run used (order within them
    /// aside). Nothing is written when the old manifest did not finish loading: a partial
    /// view must not replace it.
    func enqueueManifest() {
        guard mode == .readwrite, let name = manifestName else { return }
        let (manifest, local): (WarmManifest?, LocalStore?) = warm.withLock { w in
            guard w.loadFinished, !w.used.isEmpty else { return (nil, nil) }
            if let loaded = w.loaded, RemoteTier.leads(loaded, with: w.used) { return (nil, nil) }
            return (WarmManifest(w.used).merged(with: w.loaded), w.local)
        }
        guard let manifest, let local else { return }
        let bytes = manifest.encoded()
        do {
            let time = Timestamp.now()
            let (digest, path) = try local.publish(bytes: bytes, time: time)
            let entry = ActionEntry(outputID: digest, size: Int64(bytes.count), time: time)
            enqueueUpload(actionID: WarmManifest.actionID(named: name), entry: entry, path: path)
        } catch {
            logger.warning("cannot write the warm manifest \(name): \(error)")
        }
    }

    /// Whether `manifest`'s first records are exactly `used` (as a set, with equal entries).
    static func leads(_ manifest: WarmManifest, with used: [WarmManifest.Record]) -> Bool {
        guard manifest.records.count >= used.count else { return false }
        var lead: [Digest: ActionEntry] = [:]
        for r in manifest.records.prefix(used.count) { lead[r.actionID] = r.entry }
        return used.allSatisfy { lead[$0.actionID] == $0.entry }
    }
}
