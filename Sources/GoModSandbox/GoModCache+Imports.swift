import CASBridge

extension GoModCache {
    /// Checks that the downloaded modules provide every package the module's packages
    /// and their tests import, offline. `go mod download` fetches the modules go.mod
    /// requires; a go.mod that lacks a requirement its code needs would otherwise give a
    /// tree that builds nothing, and the error would come later, from the build.
    func checkImports(
        _ key: ModuleKey, go: String, environment base: [String: String], moduleCache: String, modFile: String,
        work: String
    ) throws {
        var env = base
        env["GOMODCACHE"] = moduleCache
        env["GOPROXY"] = "off"
        env["GOFLAGS"] = "-mod=readonly"
        env["GOCACHE"] = "\(work)/gocache"
        let list = try Subprocess(
            [go, "list", "-modfile=\(modFile)", "-deps", "-test", "-f", "{{.ImportPath}}", "./..."],
            environment: env, directory: key.directory, stdoutPath: "\(work)/imports.txt",
            stderrPath: "\(work)/imports.err")
        let status = list.wait()
        guard status != 0 else { return }
        let text = String(decoding: (try? FileSystem.readFile("\(work)/imports.err")) ?? [], as: UTF8.self)
        let lines = text.split(separator: "\n").filter { !$0.hasPrefix("go: downloading ") }.prefix(10)
            .map { "  \($0)" }.joined(separator: "\n")
        throw CASError(
            .invalidConfiguration,
            "\(key.goModPath) does not require every module its packages import; run go mod tidy in \(key.directory):\n\(lines)"
        )
    }
}
