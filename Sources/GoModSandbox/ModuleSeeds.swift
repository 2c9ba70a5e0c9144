public import CASBridge
import Glibc

/// Module versions the store already holds, for seeding a download.
///
/// Every captured or fetched tree is indexed by module version: under the ActionID of
/// `<escaped path>@<version> <piece>` an entry names the blob of that version's piece of
/// the module cache (`dir`: the extracted module's tree, `mod`, `info`, `ziphash` and,
/// in trees kept `--with-zips`, `zip`: its `cache/download` files). The blobs are the tree's own, so the index adds entries only. When a go.sum changes, the versions it pins
/// that the index knows are written into a local file:// GOPROXY placed in front of the
/// user's (their zips rebuilt from the extracted files, or the original zips when the
/// tree keeps zips, whose bytes are then part of the tree), so `go mod download` takes
/// them from there and asks the real proxy only for the rest. The go command still
/// decides what to fetch and verifies every file against go.sum, so the captured tree is
/// the one a full download gives.
public struct ModuleSeeds {
    /// The store the index and blobs live in.
    public let store: LocalStore

    /// Creates the index over `store`.
    public init(store: LocalStore) {
        self.store = store
    }

    /// The pieces of a module version that are indexed.
    static let pieces = ["dir", "mod", "info", "ziphash", "zip"]

    /// The ActionID of one piece of one module version.
    static func actionID(escapedPath: String, version: String, piece: String) -> Digest {
        SHA256.hash(Array("casbridge-gomod-module 1\n\(escapedPath)@\(version)\n\(piece)\n".utf8))
    }

    /// Records every module version in tree `root`; returns how many.
    @discardableResult
    public func index(root: Digest) throws -> Int {
        let reader = TreeMaterializer(store: store)
        var pieces: [String: [String: TreeEntry]] = [:]  // "escaped@version" -> piece name -> entry
        let top = try reader.readTree(root, relative: "")
        for e in top.entries where e.kind == .directory {
            if e.name == "cache" {
                let cache = try reader.readTree(e.digest, relative: "cache")
                if let download = cache.entries.first(where: { $0.name == "download" && $0.kind == .directory }) {
                    try collectDownloads(download.digest, prefix: "", reader: reader, into: &pieces)
                }
            } else {
                try collectModules(e, prefix: "", reader: reader, into: &pieces)
            }
        }
        for (key, named) in pieces {
            let at = key.lastIndex(of: "@")!
            let path = String(key[..<at])
            let version = String(key[key.index(after: at)...])
            for (piece, e) in named {
                let id = ModuleSeeds.actionID(escapedPath: path, version: version, piece: piece)
                if store.lookup(id)?.entry.outputID != e.digest {
                    try store.record(ActionEntry(outputID: e.digest, size: e.size, time: .now()), for: id)
                }
            }
        }
        return pieces.count
    }

    /// Extracted modules: the first directory whose name holds `@` is a module version.
    private func collectModules(
        _ entry: TreeEntry, prefix: String, reader: TreeMaterializer, into pieces: inout [String: [String: TreeEntry]]
    ) throws {
        let path = prefix.isEmpty ? entry.name : "\(prefix)/\(entry.name)"
        if entry.name.contains("@") {
            var dir = entry
            dir.name = "dir"
            pieces[path, default: [:]]["dir"] = dir
            return
        }
        for child in try reader.readTree(entry.digest, relative: path).entries where child.kind == .directory {
            try collectModules(child, prefix: path, reader: reader, into: &pieces)
        }
    }

    /// `cache/download/<escaped path>/@v/<version>.{mod,info,ziphash}`.
    private func collectDownloads(
        _ digest: Digest, prefix: String, reader: TreeMaterializer, into pieces: inout [String: [String: TreeEntry]]
    ) throws {
        for e in try reader.readTree(digest, relative: "cache/download/\(prefix)").entries where e.kind == .directory {
            let path = prefix.isEmpty ? e.name : "\(prefix)/\(e.name)"
            if e.name == "@v", !prefix.isEmpty {
                for file in try reader.readTree(e.digest, relative: path).entries where file.kind != .directory {
                    for ext in ["mod", "info", "ziphash", "zip"] where file.name.hasSuffix(".\(ext)") {
                        var piece = file
                        piece.name = ext
                        pieces["\(prefix)@\(file.name.dropLast(ext.count + 1))", default: [:]][ext] = piece
                    }
                }
            } else {
                try collectDownloads(e.digest, prefix: path, reader: reader, into: &pieces)
            }
        }
    }
}
