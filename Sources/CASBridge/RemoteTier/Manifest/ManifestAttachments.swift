/// The blobs that travel inside the warm manifest's action entry: the manifest itself and
/// the first outputs the go command asks for, so that a run with an empty local store has
/// them after one request, not after three round trips (entry, manifest, first segment).
enum ManifestAttachments {
    /// Stores the attached blobs, each received by a `BlobReceiver` and published only if
    /// its bytes hash to its digest; returns the bytes stored and how many were corrupt
    /// (dropped).
    static func store(_ attached: [AttachedBlob], into local: LocalStore) -> (stored: Int64, corrupt: Int) {
        var stored: Int64 = 0
        var corrupt = 0
        for blob in attached {
            guard let receiver = try? BlobReceiver(into: local, expecting: blob.digest, throughPageCache: true)
            else { continue }
            do {
                try blob.bytes.withUnsafeBytes { try receiver.write($0) }
                switch try receiver.publish(as: blob.digest) {
                case .published(let hash, _): stored += hash.size
                case .mismatch: corrupt += 1
                }
            } catch {
                receiver.discard()
            }
        }
        return (stored, corrupt)
    }

    /// What the manifest's entry carries: the manifest itself up to `WarmManifest.attachedLimit`
    /// bytes, and the outputs of up to `InlineBlobs.limit` bytes of its first records that this
    /// run used, up to `WarmManifest.attachedHeadBytes`: what the go command asks for first,
    /// one by one, while the rest is still on its way.
    static func of(_ manifest: WarmManifest, bytes: [UInt8], digest: Digest, local: LocalStore) -> [AttachedBlob] {
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
