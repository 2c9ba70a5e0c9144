public import CASBridge
import Glibc

/// Moves a tree's blobs between the local store and a remote one. Every blob that comes
/// from the remote is received by a `BlobReceiver`, which publishes it locally only if it
/// hashes to its digest.
public struct TreeTransfer: Sendable {
    /// The local store.
    public let local: LocalStore
    /// The remote store.
    public let remote: any CacheStore
    /// How many blobs move at once.
    public var concurrency = 8

    /// Creates a transfer between `local` and `remote`.
    public init(local: LocalStore, remote: any CacheStore) {
        self.local = local
        self.remote = remote
    }

    /// Uploads the blobs the remote lacks, then records `entry` under `actionID`, so the
    /// remote never names a tree whose blobs it does not hold.
    public func push(blobs: [Digest: Int64], entry: ActionEntry, actionID: Digest) async throws {
        let all = Array(blobs.keys)
        var missing: [Digest] = []
        var start = 0
        while start < all.count {
            let batch = Array(all[start..<min(start + 1000, all.count)])
            missing += try await remote.missingBlobs(batch)
            start += 1000
        }
        try await forEachConcurrently(missing) { digest in
            try await remote.writeBlob(digest, size: blobs[digest]!, from: local.blobPath(digest))
        }
        try await remote.record(entry, for: actionID)
    }

    /// Downloads every blob of tree `root` that the local store lacks.
    /// Returns the number of blobs and bytes downloaded.
    @discardableResult
    public func fetch(root: Digest, size: Int64) async throws -> (blobs: Int, bytes: Int64) {
        var count = 0
        var bytes: Int64 = 0
        var level: [(Digest, Int64, String)] = [(root, size, ".")]
        let reader = TreeMaterializer(store: local)
        while !level.isEmpty {
            let trees = level.filter { !FileSystem.exists(local.blobPath($0.0)) }
            try await forEachConcurrently(trees.map { $0.0 }) { digest in
                let t = trees.first { $0.0 == digest }!
                try await download(digest, size: t.1, what: "tree '\(t.2)'")
            }
            count += trees.count
            bytes += trees.reduce(0) { $0 + $1.1 }
            var next: [(Digest, Int64, String)] = []
            var files: [Digest: (Int64, String)] = [:]
            for (digest, _, path) in level {
                for e in try reader.readTree(digest, relative: path).entries {
                    let child = path == "." ? e.name : "\(path)/\(e.name)"
                    if e.kind == .directory {
                        next.append((e.digest, e.size, child))
                    } else if files[e.digest] == nil && !FileSystem.exists(local.blobPath(e.digest)) {
                        files[e.digest] = (e.size, child)
                    }
                }
            }
            let wanted = files
            try await forEachConcurrently(Array(wanted.keys)) { digest in
                let (size, path) = wanted[digest]!
                try await download(digest, size: size, what: "file '\(path)'")
            }
            count += files.count
            bytes += files.values.reduce(0) { $0 + $1.0 }
            level = next
        }
        return (count, bytes)
    }

    private func download(_ digest: Digest, size: Int64, what: String) async throws {
        let receiver = try BlobReceiver(into: local, expecting: digest)
        defer { receiver.discard() }
        guard try await remote.readBlob(digest, size: size, to: receiver) else {
            throw CASError(.notFound, "remote \(remote.name) lacks blob \(digest) (\(what))")
        }
        if case .mismatch(let actual) = try receiver.publish(as: digest, size: size) {
            throw CASError(
                .digestMismatch,
                "remote \(remote.name) served blob \(digest) (\(what)) with the wrong content: \(actual.digest), \(actual.size) bytes"
            )
        }
    }

    private func forEachConcurrently(
        _ items: [Digest], _ body: @escaping @Sendable (Digest) async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for item in items {
                if running >= concurrency {
                    try await group.next()
                    running -= 1
                }
                group.addTask { try await body(item) }
                running += 1
            }
            try await group.waitForAll()
        }
    }
}
