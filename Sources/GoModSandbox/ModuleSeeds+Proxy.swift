import CASBridge
import Glibc

extension ModuleSeeds {
    /// What `writeProxy` served.
    public struct ProxyReport: Sendable {
        /// Module versions whose go.mod the local proxy serves.
        public var goModFiles = 0
        /// Module versions (`path@version`) whose zip it serves.
        public var zips: Set<String> = []
    }

    /// Writes a file:// GOPROXY at `directory` holding the module versions `goSum` pins
    /// that the index knows, each only where its go.mod (and zip hash) match what go.sum
    /// pins. A version whose blobs are missing or damaged is left out (the real proxy
    /// serves it). With `withZips` only original zips are served (the tree keeps their bytes).
    public func writeProxy(goSum: GoSum, into directory: String, withZips: Bool) throws -> ProxyReport {
        var report = ProxyReport()
        let reader = TreeMaterializer(store: store)
        var versions = Set<String>()  // "path version"
        for key in goSum.hashes.keys {
            versions.insert(key.hasSuffix("/go.mod") ? String(key.dropLast(7)) : key)
        }
        for pair in versions.sorted() {
            let words = pair.split(separator: " ")
            guard words.count == 2 else { continue }
            let path = String(words[0])
            let version = String(words[1])
            let escaped = ModulePath.escape(path)
            var named: [String: TreeEntry] = [:]
            for piece in ModuleSeeds.pieces {
                let id = ModuleSeeds.actionID(escapedPath: escaped, version: version, piece: piece)
                if let hit = store.lookup(id) {
                    named[piece] = TreeEntry(
                        kind: piece == "dir" ? .directory : .file, size: hit.entry.size, digest: hit.entry.outputID,
                        name: piece)
                }
            }
            let vdir = "\(directory)/\(escaped)/@v"
            guard let mod = named["mod"].flatMap(blob),
                ModulePath.goModHash(mod) == goSum.hashes["\(path) \(version)/go.mod"]
            else { continue }
            try FileSystem.makeDirectories(vdir)
            try FileSystem.writeFileAtomically("\(vdir)/\(version).mod", mod)
            report.goModFiles += 1
            if let info = named["info"].flatMap(blob) {
                try FileSystem.writeFileAtomically("\(vdir)/\(version).info", info)
            }
            guard let pinned = goSum.hashes["\(path) \(version)"], let dir = named["dir"],
                let zipHash = named["ziphash"].flatMap(blob),
                String(decoding: zipHash, as: UTF8.self).trimmingTrailingNewlines == pinned
            else { continue }
            let zip = "\(vdir)/\(version).zip"
            do {
                if withZips {
                    guard let original = named["zip"] else { continue }
                    try FileSystem.copyFile(store.blobPath(original.digest), to: zip)
                    guard try FileSystem.hashFile(zip).0 == original.digest else {
                        throw CASError(.digestMismatch, "blob \(original.digest) for \(path)@\(version).zip is damaged")
                    }
                } else {
                    var writer = try StoredZipWriter(path: zip)
                    try addFiles(dir.digest, name: "\(path)@\(version)", reader: reader, to: &writer)
                    try writer.finish()
                }
                report.zips.insert("\(path)@\(version)")
            } catch {
                unlink(zip)
            }
        }
        return report
    }

    /// A small blob's bytes, if present and intact.
    private func blob(_ entry: TreeEntry) -> [UInt8]? {
        guard entry.kind != .directory, let bytes = try? FileSystem.readFile(store.blobPath(entry.digest)),
            SHA256.hash(bytes) == entry.digest
        else { return nil }
        return bytes
    }

    private func addFiles(_ digest: Digest, name: String, reader: TreeMaterializer, to writer: inout StoredZipWriter)
        throws
    {
        for e in try reader.readTree(digest, relative: name).entries {
            let child = "\(name)/\(e.name)"
            if e.kind == .directory {
                try addFiles(e.digest, name: child, reader: reader, to: &writer)
            } else {
                let actual = try writer.add(name: child, source: store.blobPath(e.digest))
                guard actual == e.digest else {
                    throw CASError(.digestMismatch, "blob \(e.digest) for \(child) is damaged")
                }
            }
        }
    }
}
