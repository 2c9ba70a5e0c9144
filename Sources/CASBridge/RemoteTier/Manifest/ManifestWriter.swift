import Glibc
public import Logging

/// Writes this run's warm manifest at close: packs the outputs the plan puts in new
/// segments, stores the segments in the remote (unless it holds them) and the manifest blob
/// in the local store, for the `UploadQueue` to upload with its entry.
package final class ManifestWriter: Sendable {
    private let remote: GuardedRemote
    /// How many segments are written at once.
    private let maxConcurrent: Int

    package init(remote: GuardedRemote, maxConcurrent: Int) {
        self.remote = remote
        self.maxConcurrent = maxConcurrent
    }

    private var store: any CacheStore { remote.store }
    private var statistics: HelperStatistics { remote.statistics }
    private var logger: Logger { remote.logger }

    /// Writes the plan's new segments (compressed where the store asks for it), then the
    /// manifest itself into the local store, and returns its entry, path and attachments
    /// (`ManifestAttachments`) for the upload, unless the loaded one already starts with exactly the entries this
    /// run used (order within them aside) and needs no new segment. Segments that fail, or
    /// are not stored by `segmentDeadline` (half of close's budget: a slow link must not cost
    /// the manifest), are left out of it.
    func write(_ upload: Upload.Manifest) async -> (entry: ActionEntry, path: String, attached: [AttachedBlob])? {
        let (local, segmentDeadline) = (upload.local, upload.segmentDeadline)
        let plan = upload.plan.compressing(await store.compressesSegments())
        if let loaded = plan.older, ManifestWriter.leads(loaded, with: plan.used), plan.pending.isEmpty,
            plan.manifest.segments.count == loaded.segments.count
        {
            return nil
        }
        let compress = plan.compressing
        var manifest = plan.manifest
        let written = await withTaskGroup(of: (Int, WarmManifest.Segment?)?.self) { group in
            group.addTask {
                try? await Task.sleep(until: segmentDeadline)
                return nil
            }
            var written: [Int: WarmManifest.Segment] = [:]
            var queue = plan.pending[...]
            var running = 0
            while true {
                while running < maxConcurrent, let pending = queue.popFirst() {
                    group.addTask { [self] in
                        (pending.index, await self.writeSegment(pending.pieces, local: local, compress: compress))
                    }
                    running += 1
                }
                guard running > 0, let result = await group.next() else { break }
                guard let (i, segment) = result else { break }  // the deadline passed
                written[i] = segment
                running -= 1
            }
            group.cancelAll()
            return written
        }
        var failed = Set<Int>()
        for pending in plan.pending {
            if let segment = written[pending.index] ?? nil {
                manifest.segments[pending.index] = segment
            } else {
                failed.insert(pending.index)
            }
        }
        manifest = manifest.removingSegments(failed)
        if Task.isCancelled { return nil }
        let bytes = manifest.encoded()
        do {
            let time = Timestamp.now()
            let (digest, path) = try local.publish(bytes: bytes, time: time)
            let attached = ManifestAttachments.of(manifest, bytes: bytes, digest: digest, local: local)
            return (ActionEntry(outputID: digest, size: Int64(bytes.count), time: time), path, attached)
        } catch {
            logger.warning("cannot write the warm manifest: \(error)")
            return nil
        }
    }

    /// Concatenates `pieces` from the local store into a temporary file and stores it in
    /// the remote unless it holds it already, zstd-compressed with `compress` if that pays;
    /// nil if that failed.
    private func writeSegment(_ pieces: [ActionEntry], local: LocalStore, compress: Bool) async
        -> WarmManifest.Segment?
    {
        if Task.isCancelled { return nil }
        let temp: LocalStore.TempFile
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            temp = try local.makeTempFile()
        } catch {
            return nil
        }
        defer { unlink(temp.path) }
        do {
            defer { close(temp.fd) }
            for piece in pieces {
                try FileSystem.stream(local.blobPath(piece.outputID)) { bytes in
                    try FileSystem.writeAll(temp.fd, bytes, path: temp.path)
                    hasher.update(bytes)
                    size += Int64(bytes.count)
                }
            }
        } catch {
            logger.debug("cannot pack a segment of \(pieces.count) outputs: \(error)")
            return nil
        }
        guard size == pieces.reduce(0, { $0 + $1.size }) else { return nil }
        var segment = WarmManifest.Segment(digest: hasher.finalize(), size: size)
        var source = temp.path
        var copy: String? = nil
        defer { if let copy { unlink(copy) } }
        if compress, let compressed = try? await Zstd.compressedCopy(of: temp.path, size: size) {
            copy = compressed.path
            segment = WarmManifest.Segment(
                digest: compressed.digest, size: compressed.size, contentSize: size, compressed: true)
            source = compressed.path
        }
        let stored = await remote.run("write segment \(segment.digest)") { () async throws -> Bool in
            if try await store.writeBlobIfMissing(segment.digest, size: segment.size, from: source) {
                statistics.update {
                    $0[.segmentUploads] += 1
                    $0[.bytesUp] += segment.size
                }
            }
            return true
        }
        return stored == true ? segment : nil
    }

    /// Whether `manifest`'s first records are exactly `used` (as a set, with equal entries).
    static func leads(_ manifest: WarmManifest, with used: [WarmManifest.Record]) -> Bool {
        guard manifest.records.count >= used.count else { return false }
        var lead: [Digest: ActionEntry] = [:]
        for r in manifest.records.prefix(used.count) { lead[r.actionID] = r.entry }
        return used.allSatisfy { lead[$0.actionID] == $0.entry }
    }
}
