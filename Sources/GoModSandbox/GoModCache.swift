public import CASBridge
import Glibc

/// Module downloads as content-addressed trees: `go mod download` runs once per
/// distinct go.mod and go.sum, its result is kept as a Merkle tree in the store (and
/// the remote one, if any), and any sandbox materialises it offline.
public final class GoModCache: Sendable {
    /// The local store.
    public let local: LocalStore
    /// The remote store, if any.
    public let remote: (any CacheStore)?
    /// Whether new trees are uploaded to the remote.
    public let uploads: Bool
    /// Whether `.zip` files are kept in trees.
    public let withZips: Bool
    /// Whether to draw progress on stderr (when it is a terminal).
    public let showProgress: Bool
    /// The environment the go command runs with (before the sandbox's own settings).
    public let environment: [String: String]

    /// Creates a cache over `local` and optionally `remote`.
    public init(
        local: LocalStore, remote: (any CacheStore)? = nil, uploads: Bool = true, withZips: Bool = false,
        showProgress: Bool? = nil, environment: [String: String]? = nil
    ) {
        self.local = local
        self.remote = remote
        self.uploads = uploads
        self.withZips = withZips
        self.showProgress = showProgress ?? (isatty(2) != 0)
        self.environment = environment ?? Subprocess.currentEnvironment
    }

    /// The `-modfile` named in GOFLAGS, if any.
    var modFileFlag: String? {
        for word in (environment["GOFLAGS"] ?? "").split(separator: " ") {
            for prefix in ["-modfile=", "--modfile="] where word.hasPrefix(prefix) {
                return String(word.dropFirst(prefix.count))
            }
        }
        return nil
    }

    /// The key of the module in `directory`.
    public func key(for directory: String) throws -> ModuleKey {
        try ModuleKey(directory: FileSystem.absolute(directory), modFile: modFileFlag, withZips: withZips)
    }

    /// Makes sure the tree for the module in `directory` is in the local store: from the
    /// local action cache, else the remote one, else by running `go mod download`.
    public func ensure(moduleDirectory directory: String) async throws -> EnsureResult {
        let started = ContinuousClock.now
        let key = try self.key(for: directory)
        func result(
            _ digest: Digest, _ source: EnsureResult.Source, files: Int = 0, bytes: Int64 = 0, seeded: Int = 0
        ) -> EnsureResult {
            EnsureResult(
                directory: key.directory, key: key.actionID.hex, digest: digest.hex, source: source, files: files,
                bytes: bytes, seededModules: seeded,
                seconds: (ContinuousClock.now - started).inSeconds)
        }
        if key.vendored {
            let capture = TreeCapture(store: local, withZips: withZips)
            let empty = try capture.capture("/nonexistent-\(getpid())")
            return result(empty.root.digest, .vendored)
        }
        if let hit = local.lookup(key.actionID), isComplete(hit.entry.outputID) {
            return result(hit.entry.outputID, .local)
        }
        if let remote {
            do {
                if let entry = try await remoteEntry(remote, key.actionID) {
                    try await TreeTransfer(local: local, remote: remote).fetch(root: entry.outputID, size: entry.size)
                    try local.record(entry, for: key.actionID)
                    try local.record(entry, for: GoModCache.treeActionID(entry.outputID))
                    indexModules(entry.outputID)
                    return result(entry.outputID, .remote)
                }
            } catch {
                GoModCache.warn("gomod: \(key.directory): remote \(remote.name) failed (\(error)); downloading instead")
            }
        }
        let (captured, seeded) = try download(key)
        let entry = ActionEntry(outputID: captured.root.digest, size: captured.root.size, time: .now())
        try local.record(entry, for: key.actionID)
        try local.record(entry, for: GoModCache.treeActionID(entry.outputID))
        indexModules(entry.outputID)
        if let remote, uploads {
            do {
                let transfer = TreeTransfer(local: local, remote: remote)
                try await transfer.push(blobs: captured.blobs, entry: entry, actionID: key.actionID)
                try await remote.record(entry, for: GoModCache.treeActionID(entry.outputID))
            } catch {
                // A remote failure never fails the download: the tree is complete locally.
                GoModCache.warn(
                    "gomod: \(key.directory): the tree \(entry.outputID) is stored locally but the upload to remote \(remote.name) failed (\(error))"
                )
            }
        }
        return result(captured.root.digest, .downloaded, files: captured.files, bytes: captured.bytes, seeded: seeded)
    }

    /// Indexes the module versions of tree `root` for seeding later downloads; a failure
    /// only costs those downloads the seeding.
    private func indexModules(_ root: Digest) {
        do {
            try ModuleSeeds(store: local).index(root: root)
        } catch {
            GoModCache.warn("gomod: cannot index the modules of tree \(root) for later downloads: \(error)")
        }
    }

    private func remoteEntry(_ remote: any CacheStore, _ actionID: Digest) async throws -> ActionEntry? {
        do {
            return try await remote.entry(for: actionID)
        } catch {
            throw CASError(
                .remote, "cannot look up key \(actionID) in remote \(remote.name)", cause: error as? CASError)
        }
    }

    /// The ActionID under which a tree's own entry is recorded, so that a digest alone
    /// tells its size (stores addressed by digest and size need it).
    public static func treeActionID(_ root: Digest) -> Digest {
        SHA256.hash(Array("casbridge-gomod-tree 1\n\(root.hex)\n".utf8))
    }

    /// Fetches every missing blob of tree `root` from the remote (no-op without one).
    public func fetchTree(_ root: Digest) async throws {
        guard let remote, !isComplete(root) else { return }
        let size: Int64
        if let known = local.lookup(GoModCache.treeActionID(root)) {
            size = known.entry.size
        } else if let entry = try await remote.entry(for: GoModCache.treeActionID(root)) {
            size = entry.size
        } else {
            throw CASError(.notFound, "remote \(remote.name) does not know tree \(root)")
        }
        try await TreeTransfer(local: local, remote: remote).fetch(root: root, size: size)
    }

    static func warn(_ message: String) {
        let line = message + "\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }

    /// Whether every blob of tree `root` is in the local store (by presence and size).
    public func isComplete(_ root: Digest) -> Bool {
        let reader = TreeMaterializer(store: local)
        func check(_ digest: Digest) -> Bool {
            guard let tree = try? reader.readTree(digest, relative: "") else { return false }
            for e in tree.entries {
                if e.kind == .directory {
                    if !check(e.digest) { return false }
                } else {
                    var st = stat()
                    guard stat(local.blobPath(e.digest), &st) == 0, Int64(st.st_size) == e.size else { return false }
                }
            }
            return true
        }
        return check(root)
    }

    /// Materialises tree `root` into `directory` (see `TreeMaterializer`).
    @discardableResult
    public func materialize(_ root: Digest, into directory: String) throws -> TreeMaterializer.Report {
        try TreeMaterializer(store: local).materialize(root, into: FileSystem.absolute(directory))
    }

    /// The shared materialisation of `root` beside the store (`<store>/gomod/<digest>`),
    /// created atomically: built in a temporary directory and renamed into place.
    public func sharedMaterialization(_ root: Digest) throws -> String {
        let final = "\(local.directory)/gomod/\(root.hex)"
        let materializer = TreeMaterializer(store: local)
        if FileSystem.exists("\(final)/\(TreeMaterializer.markerName)") {
            try materializer.materialize(root, into: final)
            return final
        }
        try FileSystem.makeDirectories("\(local.directory)/gomod")
        let temp = "\(final).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { FileSystem.removeTree(temp) }
        try materializer.materialize(root, into: temp)
        if Glibc.rename(temp, final) != 0 {
            // Another process got there first, or an incomplete directory is in the way.
            try materializer.materialize(root, into: final)
        }
        return final
    }
}
