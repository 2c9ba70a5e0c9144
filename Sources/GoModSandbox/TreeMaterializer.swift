public import CASBridge
import Glibc

/// Builds a module cache directory (GOMODCACHE) from a tree in the local store.
///
/// Files are hard links to the store's read-only (0444) blobs when the directory is on
/// the store's file system, copies otherwise; executable files are always copies (mode
/// 0555), since a hard link shares its mode with the blob. Directories inside extracted
/// modules (`<module>@<version>/…`, outside `cache/`) are made read-only (0555) as the
/// go command does; the others stay writable so the go command can add to the cache.
/// Every blob is checked against its digest before it is used. A complete run writes
/// a marker naming the tree, so re-running into a complete directory only checks that
/// each file is present with its size.
public struct TreeMaterializer {
    /// The store the blobs come from.
    public let store: LocalStore

    /// The marker file written at the root of a complete materialisation.
    public static let markerName = ".casbridge-gomod-tree"

    /// What a materialisation did.
    public struct Report: Sendable {
        /// Files created (linked or copied).
        public var created = 0
        /// Of those, files copied rather than linked.
        public var copied = 0
        /// Files that were already present and correct.
        public var present = 0
        /// Whether the marker showed a complete directory and only a quick check ran.
        public var quick = false
    }

    /// Creates a materialiser reading from `store`.
    public init(store: LocalStore) {
        self.store = store
    }

    /// Materialises tree `root` into `directory` (created if needed; existing content
    /// is kept, and files that differ from the tree are replaced).
    @discardableResult
    public func materialize(_ root: Digest, into directory: String) throws -> Report {
        var report = Report()
        let marker = "\(directory)/\(TreeMaterializer.markerName)"
        if let text = try? FileSystem.readFile(marker), String(decoding: text, as: UTF8.self) == "\(root.hex)\n",
            (try? quickCheck(root, directory: directory, relative: "", report: &report)) == true
        {
            report.quick = true
            return report
        }
        report = Report()
        var verified = Set<Digest>()
        try FileSystem.makeDirectories(directory)
        unlink(marker)
        try place(tree: root, directory: directory, relative: "", readOnly: false, verified: &verified, report: &report)
        try FileSystem.writeFileAtomically(marker, Array("\(root.hex)\n".utf8), mode: 0o444)
        return report
    }

    /// Reads and verifies tree blob `digest`; `relative` names it in errors.
    public func readTree(_ digest: Digest, relative: String) throws -> Tree {
        let path = store.blobPath(digest)
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path)
        } catch {
            throw CASError(
                .notFound,
                "tree blob \(digest) for '\(relative.isEmpty ? "." : relative)' is missing from the local store at \(path)",
                cause: error as? SystemError)
        }
        let actual = SHA256.hash(bytes)
        guard actual == digest else {
            throw CASError(
                .digestMismatch,
                "tree blob \(digest) for '\(relative.isEmpty ? "." : relative)' in \(path) is damaged: its content hashes to \(actual)"
            )
        }
        return try Tree.decode(bytes, what: "blob \(digest) ('\(relative.isEmpty ? "." : relative)')")
    }

    private func quickCheck(_ digest: Digest, directory: String, relative: String, report: inout Report) throws -> Bool
    {
        let tree = try readTree(digest, relative: relative)
        for e in tree.entries {
            let path = "\(directory)/\(e.name)"
            var st = stat()
            guard lstat(path, &st) == 0 else { return false }
            let type = st.st_mode & S_IFMT
            switch e.kind {
            case .directory:
                guard type == S_IFDIR,
                    try quickCheck(e.digest, directory: path, relative: join(relative, e.name), report: &report)
                else { return false }
            case .file, .executable:
                guard type == S_IFREG, Int64(st.st_size) == e.size else { return false }
                if e.kind == .executable && st.st_mode & 0o111 == 0 { return false }
                report.present += 1
            }
        }
        return true
    }

    private func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : "\(a)/\(b)" }

    private func place(
        tree digest: Digest, directory: String, relative: String, readOnly: Bool, verified: inout Set<Digest>,
        report: inout Report
    ) throws {
        let tree = try readTree(digest, relative: relative)
        var st = stat()
        if lstat(directory, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw CASError(.io, "\(directory) exists and is not a directory")
            }
            if st.st_mode & 0o200 == 0 { chmod(directory, 0o755) }
        } else if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw CASError(.io, "cannot create \(directory)", cause: SystemError("mkdir", errno: errno))
        }
        for e in tree.entries {
            let path = "\(directory)/\(e.name)"
            let rel = join(relative, e.name)
            switch e.kind {
            case .directory:
                // Extracted modules and everything inside them are read-only.
                let childReadOnly = readOnly || (!rel.hasPrefix("cache/") && rel != "cache" && e.name.contains("@"))
                try place(
                    tree: e.digest, directory: path, relative: rel, readOnly: childReadOnly, verified: &verified,
                    report: &report)
            case .file, .executable:
                try placeFile(e, path: path, relative: rel, verified: &verified, report: &report)
            }
        }
        if readOnly { chmod(directory, 0o555) }
    }

    private func placeFile(
        _ e: TreeEntry, path: String, relative: String, verified: inout Set<Digest>, report: inout Report
    ) throws {
        let blob = store.blobPath(e.digest)
        var blobStat = stat()
        guard stat(blob, &blobStat) == 0 else {
            throw CASError(.notFound, "blob \(e.digest) for '\(relative)' is missing from the local store at \(blob)")
        }
        if !verified.contains(e.digest) {
            let (actual, size) = try FileSystem.hashFile(blob)
            guard actual == e.digest, size == e.size else {
                throw CASError(
                    .digestMismatch,
                    "blob \(e.digest) for '\(relative)' in \(blob) is damaged: it hashes to \(actual) (\(size) bytes, expected \(e.size))"
                )
            }
            verified.insert(e.digest)
        }
        var st = stat()
        if lstat(path, &st) == 0 {
            let sameInode = st.st_ino == blobStat.st_ino && st.st_dev == blobStat.st_dev
            let rightMode = e.kind == .executable ? st.st_mode & 0o111 != 0 : true
            if (st.st_mode & S_IFMT) == S_IFREG, rightMode,
                sameInode || ((try? FileSystem.hashFile(path)).map { $0.0 == e.digest && $0.1 == e.size } ?? false)
            {
                report.present += 1
                return
            }
            FileSystem.removeTree(path)
        }
        if e.kind == .file, link(blob, path) == 0 {
            report.created += 1
            return
        }
        // Another file system, or an executable: copy beside the target, then rename.
        let temp = "\(path).casbridge-tmp-\(getpid())"
        do {
            try FileSystem.copyFile(blob, to: temp)
            let (actual, size) = try FileSystem.hashFile(temp)
            guard actual == e.digest, size == e.size else {
                throw CASError(
                    .digestMismatch, "copy of blob \(e.digest) for '\(relative)' at \(temp) hashes to \(actual)")
            }
            chmod(temp, e.kind == .executable ? 0o555 : 0o444)
            try FileSystem.rename(temp, path)
        } catch {
            unlink(temp)
            throw error as? CASError
                ?? CASError(.io, "cannot copy blob \(e.digest) to \(path)", cause: error as? SystemError)
        }
        report.created += 1
        report.copied += 1
    }
}
