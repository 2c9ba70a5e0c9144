/// The blobs that travel inside the warm manifest's action entry: the manifest itself and
/// the first outputs the go command asks for, so that a run with an empty local store has
/// them after one request, not after three round trips (entry, manifest, first segment).
extension RemoteTier {
    /// Stores the attached blobs whose bytes hash to their digest; the others are counted
    /// as corrupt and dropped.
    func storeAttached(_ attached: [AttachedBlob], into local: LocalStore) {
        var stored: Int64 = 0
        var corrupt = 0
        for blob in attached {
            guard blob.isIntact else {
                corrupt += 1
                continue
            }
            if (try? local.publish(bytes: blob.bytes)) != nil { stored += Int64(blob.bytes.count) }
        }
        statistics.update {
            $0.bytesDown += stored
            $0.corruptBlobs += corrupt
        }
    }

    /// What the manifest's entry carries: the manifest itself up to `WarmManifest.attachedLimit`
    /// bytes, and the outputs of up to `InlineBlobs.limit` bytes of its first records that this
    /// run used, up to `WarmManifest.attachedHeadBytes`: what the go command asks for first,
    /// one by one, while the rest is still on its way.
    func attachments(of manifest: WarmManifest, bytes: [UInt8], digest: Digest, local: LocalStore)
        -> [AttachedBlob]
    {
        guard bytes.count <= WarmManifest.attachedLimit else { return [] }
        var attached = [AttachedBlob(digest: digest, bytes: bytes)]
        var total: Int64 = 0
        var seen = Set<Digest>()
        for r in manifest.records {
            guard r.age == 0, total < WarmManifest.attachedHeadBytes else { break }
            let size = r.entry.size
            guard size > 0, size <= InlineBlobs.limit, total + size <= WarmManifest.attachedHeadBytes,
                seen.insert(r.entry.outputID).inserted,
                let contents = try? FileSystem.readFile(local.blobPath(r.entry.outputID)),
                Int64(contents.count) == size
            else { continue }
            let blob = AttachedBlob(digest: r.entry.outputID, bytes: contents)
            guard blob.isIntact else { continue }
            attached.append(blob)
            total += size
        }
        return attached
    }
}
