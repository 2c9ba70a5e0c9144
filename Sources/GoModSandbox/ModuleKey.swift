public import CASBridge

/// The cache key of one module's downloads: what decides which module versions
/// `go mod download` fetches and which bytes they have.
///
/// The key covers the bytes of go.mod and go.sum (go.sum pins every module's content,
/// so the proxy it came from does not matter), the go.mod files of local `replace`
/// targets (their requirements join the module graph), whether zips are kept, and
/// whether the module is vendored. GOPROXY, GOPRIVATE, GONOSUMDB, GOINSECURE, GOOS and
/// GOARCH are left out: they change where bytes come from or which packages build,
/// not which module versions `all` names nor their verified content.
public struct ModuleKey: Sendable {
    /// The module's directory.
    public var directory: String
    /// The go.mod file read (go.mod in `directory`, or the `-modfile` of GOFLAGS).
    public var goModPath: String
    /// The go.sum beside it.
    public var goSumPath: String
    /// The go.mod text.
    public var goMod: [UInt8]
    /// The go.sum text (empty when there is no go.sum).
    public var goSum: [UInt8]
    /// Whether `vendor/modules.txt` exists: the go command then builds from vendor/.
    public var vendored: Bool
    /// The number of `replace` directives to local directories.
    public var localReplacementCount = 0
    /// The text the ActionID is the SHA-256 of.
    public var material: String
    /// The ActionID under which the tree is recorded.
    public var actionID: Digest

    /// The version of the key derivation; bump it when the tree contents change meaning.
    public static let version = "casbridge-gomod-key 2"

    /// Computes the key of the module in `directory`.
    public init(directory: String, modFile: String? = nil, withZips: Bool) throws {
        self.directory = directory
        if let modFile {
            goModPath = modFile.hasPrefix("/") ? modFile : "\(directory)/\(modFile)"
        } else {
            goModPath = "\(directory)/go.mod"
        }
        goSumPath = (goModPath.hasSuffix(".mod") ? String(goModPath.dropLast(4)) : goModPath) + ".sum"
        do {
            goMod = try FileSystem.readFile(goModPath)
        } catch {
            throw CASError(.notFound, "cannot read \(goModPath)", cause: error as? SystemError)
        }
        goSum = (try? FileSystem.readFile(goSumPath)) ?? []
        vendored = FileSystem.exists("\(directory)/vendor/modules.txt")
        var lines = [
            ModuleKey.version,
            "go.mod \(SHA256.hash(goMod).hex)",
            "go.sum \(SHA256.hash(goSum).hex)",
            "zips \(withZips ? 1 : 0)",
            "vendored \(vendored ? 1 : 0)",
        ]
        let parsed = GoModFile(text: String(decoding: goMod, as: UTF8.self))
        localReplacementCount = parsed.localReplacements.count
        for target in parsed.localReplacements.sorted() {
            let path = target.hasPrefix("/") ? "\(target)/go.mod" : "\(directory)/\(target)/go.mod"
            let content = (try? FileSystem.readFile(path)).map { SHA256.hash($0).hex } ?? "missing"
            lines.append("replace \(target) \(content)")
        }
        material = lines.joined(separator: "\n") + "\n"
        actionID = SHA256.hash(Array(material.utf8))
    }
}
