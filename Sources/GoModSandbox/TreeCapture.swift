public import CASBridge
import Glibc

/// Stores a module cache directory (GOMODCACHE) in the local store as a Merkle tree.
///
/// Kept: the extracted module directories (`<module>@<version>/…`) and, under
/// `cache/download`, the `.mod`, `.info` and `.ziphash` files (and `.zip` when asked).
/// Left out: lock files, `list` files, partial downloads, `cache/download/sumdb`,
/// `cache/vcs` and empty directories. Files are moved into the store, so the captured
/// directory is consumed.
public struct TreeCapture {
    /// The store blobs go to.
    public let store: LocalStore
    /// Whether `.zip` files are kept.
    public let withZips: Bool

    /// What a capture produced.
    public struct Result: Sendable {
        /// The root tree blob.
        public var root: TreeEntry
        /// Every blob of the tree (files and tree blobs, root included) with its size.
        public var blobs: [Digest: Int64]
        /// The number of files.
        public var files: Int
        /// Their total size in bytes.
        public var bytes: Int64
    }

    /// Creates a capture into `store`.
    public init(store: LocalStore, withZips: Bool) {
        self.store = store
        self.withZips = withZips
    }

    /// Captures the module cache at `root`.
    public func capture(_ root: String) throws -> Result {
        var result = Result(
            root: TreeEntry(kind: .directory, size: 0, digest: .empty, name: "."), blobs: [:], files: 0, bytes: 0)
        let entry = try captureDirectory(root, relative: "", result: &result)
        result.root = try entry ?? (storeTree(Tree([]), name: ".", relative: "", result: &result))
        return result
    }

    private func keep(relative: String, name: String, isDirectory: Bool) -> Bool {
        if relative.isEmpty {
            // The root: module path directories, and cache/.
            return isDirectory
        }
        if relative == "cache" { return isDirectory && name == "download" }
        if relative == "cache/download" && name == "sumdb" { return false }
        if relative.hasPrefix("cache/download") {
            if isDirectory { return true }
            return name.hasSuffix(".mod") || name.hasSuffix(".info") || name.hasSuffix(".ziphash")
                || (withZips && name.hasSuffix(".zip"))
        }
        // Inside module path directories and extracted modules: everything but the
        // go command's own partial markers at the module level.
        if !isDirectory && name.hasSuffix(".partial") && !relative.contains("@") { return false }
        return true
    }

    private func captureDirectory(_ path: String, relative: String, result: inout Result) throws -> TreeEntry? {
        var entries: [TreeEntry] = []
        for name in FileSystem.list(path) {
            let full = "\(path)/\(name)"
            var st = stat()
            guard lstat(full, &st) == 0 else {
                throw CASError(.io, "cannot stat \(full)", cause: SystemError("lstat", errno: errno))
            }
            let type = st.st_mode & S_IFMT
            let childRelative = relative.isEmpty ? name : "\(relative)/\(name)"
            if type == S_IFDIR {
                guard keep(relative: relative, name: name, isDirectory: true) else { continue }
                if var child = try captureDirectory(full, relative: childRelative, result: &result) {
                    child.name = name
                    entries.append(child)
                }
            } else if type == S_IFREG {
                guard keep(relative: relative, name: name, isDirectory: false) else { continue }
                guard TreeEntry.isValidName(name) else {
                    throw CASError(.malformedInput, "module cache file \(full) has a name the tree cannot hold")
                }
                let adopted = try BlobReceiver.adopt(full, into: store)
                let (digest, size) = (adopted.digest, adopted.size)
                let executable = st.st_mode & 0o111 != 0
                entries.append(
                    TreeEntry(kind: executable ? .executable : .file, size: size, digest: digest, name: name))
                result.blobs[digest] = size
                result.files += 1
                result.bytes += size
            } else if relative.hasPrefix("cache/") || relative.isEmpty {
                continue  // Sockets, links or the like in the download cache: not needed.
            } else {
                throw CASError(.malformedInput, "module cache entry \(full) is neither a file nor a directory")
            }
        }
        if entries.isEmpty { return nil }
        return try storeTree(
            Tree(entries), name: (relative.split(separator: "/").last).map(String.init) ?? ".", relative: relative,
            result: &result)
    }

    private func storeTree(_ tree: Tree, name: String, relative: String, result: inout Result) throws -> TreeEntry {
        let bytes = tree.encoded()
        let digest = SHA256.hash(bytes)
        let size = Int64(bytes.count)
        if !store.hasBlob(digest) { try store.publish(bytes: bytes) }
        result.blobs[digest] = size
        return TreeEntry(kind: .directory, size: size, digest: digest, name: name)
    }
}
