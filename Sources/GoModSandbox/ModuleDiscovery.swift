import CASBridge
import Glibc

/// Finds the go.mod files a `download` argument names.
public enum ModuleDiscovery {
    /// The module directories for `argument`: `DIR/...` (or `./...`) walks DIR for every
    /// go.mod, skipping `vendor`, `testdata` and directories starting with `.` or `_`,
    /// and not following symbolic links; nested modules are modules of their own.
    /// A plain `DIR` is the module whose go.mod is in DIR or the nearest parent.
    public static func moduleDirectories(_ argument: String) throws -> [String] {
        if argument == "..." || argument.hasSuffix("/...") {
            var base = String(argument.dropLast(3))
            if base.hasSuffix("/") { base.removeLast() }
            if base.isEmpty { base = "." }
            let root = FileSystem.absolute(base)
            guard let st = FileSystem.status(root), (st.st_mode & S_IFMT) == S_IFDIR else {
                throw CASError(.notFound, "\(base) is not a directory")
            }
            var found: [String] = []
            walk(root, into: &found)
            guard !found.isEmpty else { throw CASError(.notFound, "no go.mod file under \(root)") }
            return found.sorted()
        }
        var dir = FileSystem.absolute(argument)
        while dir.count > 1, dir.hasSuffix("/") { dir.removeLast() }
        var probe = dir
        while true {
            if FileSystem.exists("\(probe)/go.mod") { return [probe] }
            guard let slash = probe.lastIndex(of: "/"), probe != "/" else { break }
            probe = slash == probe.startIndex ? "/" : String(probe[..<slash])
        }
        throw CASError(.notFound, "no go.mod in \(dir) or any parent directory")
    }

    private static func walk(_ dir: String, into found: inout [String]) {
        if FileSystem.exists("\(dir)/go.mod") { found.append(dir) }
        for name in FileSystem.list(dir).sorted() {
            if name == "vendor" || name == "testdata" || name.hasPrefix(".") || name.hasPrefix("_") { continue }
            var st = stat()
            guard lstat("\(dir)/\(name)", &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { continue }
            walk("\(dir)/\(name)", into: &found)
        }
    }
}
