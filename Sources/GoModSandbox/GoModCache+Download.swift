import CASBridge
import Glibc

extension GoModCache {
    /// Runs `go mod download -json` for the module of `key` in a private module cache
    /// (no arguments: the modules its packages and tests need, which go.sum pins; `all`
    /// would add every module of the build list, whose zips a tidy go.sum leaves out),
    /// checks that go.mod and go.sum need no change, and captures the result.
    /// Module versions the store already holds are served by a local proxy in front of
    /// the user's (see `ModuleSeeds`); the result also says how many of the modules
    /// downloaded came from there.
    func download(_ key: ModuleKey) throws -> (TreeCapture.Result, seeded: Int) {
        guard let go = Subprocess.find("go", path: environment["PATH"]) else {
            throw CASError(
                .notFound,
                "\(key.directory): key \(key.actionID) is not cached and the go command is not on PATH to download the modules"
            )
        }
        let work = "\(local.directory)/v1/tmp/gomod-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { FileSystem.removeTree(work) }
        let cacheRoot = "\(work)/modcache"
        try FileSystem.makeDirectories(cacheRoot)
        try FileSystem.makeDirectories("\(work)/mod")
        let modCopy = "\(work)/mod/go.mod"
        let sumCopy = "\(work)/mod/go.sum"
        try FileSystem.writeFileAtomically(modCopy, key.goMod)
        if !key.goSum.isEmpty || FileSystem.exists(key.goSumPath) {
            try FileSystem.writeFileAtomically(sumCopy, key.goSum)
        }

        var env = environment
        env["GOMODCACHE"] = cacheRoot
        env["GOFLAGS"] = "-modcacherw"
        env["GOTOOLCHAIN"] = "local"
        env["GOWORK"] = "off"
        // Every module stored is checked against go.sum, and a go.sum that lacks an entry
        // is refused below: the checksum database is never needed.
        env["GOSUMDB"] = "off"
        env["GOCACHEPROG"] = nil
        let seeds = seedProxy(goSum: key.goSum, directory: "\(work)/seed")
        if seeds.goModFiles > 0 {
            let upstream = environment["GOPROXY"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://proxy.golang.org,direct"
            env["GOPROXY"] = "file://\(work)/seed,\(upstream)"
        }
        let label = "gomod \(key.directory)"

        var total: Int? = nil
        if showProgress {
            let list = try Subprocess(
                [go, "list", "-m", "-modfile=\(modCopy)", "all"], environment: env, directory: key.directory,
                stdoutPath: "\(work)/list.txt", stderrPath: "\(work)/list.err")
            if list.wait() == 0, let text = try? FileSystem.readFile("\(work)/list.txt") {
                total = max(0, text.split(separator: 0x0A).count - 1 - key.localReplacementCount)
            }
        }
        let child = try Subprocess(
            [go, "mod", "download", "-modfile=\(modCopy)", "-json"], environment: env,
            directory: key.directory, stdoutPath: "\(work)/download.json", stderrPath: "\(work)/download.err")
        var progress = showProgress ? DownloadProgress(cacheRoot: cacheRoot, label: label, total: total) : nil
        var status: Int32
        while true {
            if let s = child.poll() {
                status = s
                break
            }
            progress?.tick()
            usleep(30_000)
        }
        progress?.tick(force: true)
        progress?.finish()

        let output = (try? FileSystem.readFile("\(work)/download.json")) ?? []
        let stderrText = String(decoding: (try? FileSystem.readFile("\(work)/download.err")) ?? [], as: UTF8.self)
        let records = (try? DownloadRecord.parseStream(output)) ?? []
        let failures = records.filter { $0.error != nil }
        if !failures.isEmpty {
            let lines = failures.prefix(10).map { "  \($0.path)@\($0.version ?? "?"): \($0.error!)" }
            let more = failures.count > 10 ? "\n  … and \(failures.count - 10) more" : ""
            throw CASError(
                .commandFailed,
                "go mod download failed for \(key.directory): \(failures.count) module(s) could not be downloaded:\n"
                    + lines.joined(separator: "\n") + more)
        }
        guard status == 0 else {
            throw CASError(
                .commandFailed,
                "go mod download failed for \(key.directory) (exit status \(status)):\n\(stderrText.trimmingTrailingNewlines)"
            )
        }

        let modAfter = (try? FileSystem.readFile(modCopy)) ?? []
        let sumAfter = (try? FileSystem.readFile(sumCopy)) ?? []
        if modAfter != key.goMod {
            throw CASError(
                .invalidConfiguration,
                "\(key.goModPath) would have to change for the download; run go mod tidy in \(key.directory)")
        }
        let sum = GoSum(text: String(decoding: key.goSum, as: UTF8.self))
        var missing: [String] = []
        if sumAfter != key.goSum {
            let before = Set(String(decoding: key.goSum, as: UTF8.self).split(separator: "\n"))
            for line in String(decoding: sumAfter, as: UTF8.self).split(separator: "\n") where !before.contains(line) {
                missing.append(String(line.split(separator: " ").prefix(2).joined(separator: "@")))
            }
        }
        for r in records {
            guard let version = r.version, let goModSum = r.goModSum else { continue }
            let pinned = sum.hashes["\(r.path) \(version)/go.mod"]
            if pinned == nil {
                missing.append("\(r.path)@\(version)/go.mod")
            } else if pinned != goModSum {
                throw CASError(
                    .digestMismatch,
                    "checksum mismatch for \(r.path)@\(version)/go.mod: downloaded \(goModSum), \(key.goSumPath) has \(pinned!)"
                )
            }
            if r.sum != nil, sum.hashes["\(r.path) \(version)"] == nil {
                missing.append("\(r.path)@\(version)")
            } else if let zipSum = r.sum, let pinnedZip = sum.hashes["\(r.path) \(version)"], pinnedZip != zipSum {
                throw CASError(
                    .digestMismatch,
                    "checksum mismatch for \(r.path)@\(version): downloaded \(zipSum), \(key.goSumPath) has \(pinnedZip)"
                )
            }
        }
        if !missing.isEmpty {
            let names = Array(Set(missing)).sorted()
            throw CASError(
                .invalidConfiguration,
                "\(key.goSumPath) is missing entries for \(names.prefix(10).joined(separator: ", "))\(names.count > 10 ? " and \(names.count - 10) more" : ""); run go mod tidy in \(key.directory)"
            )
        }
        try checkImports(
            key, go: go, environment: env, moduleCache: cacheRoot, modFile: modCopy, work: work)
        let seeded = records.filter { seeds.zips.contains("\($0.path)@\($0.version ?? "")") }.count
        return (try TreeCapture(store: local, withZips: withZips).capture(cacheRoot), seeded)
    }

    /// Writes the local proxy of module versions the store holds; nothing (and no proxy)
    /// when the work directory cannot be a file:// URL as it is or the index fails.
    private func seedProxy(goSum: [UInt8], directory: String) -> ModuleSeeds.ProxyReport {
        let plain = directory.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b == 0x2F || b == 0x2E || b == 0x2D
                || b == 0x5F
        }
        guard plain, !goSum.isEmpty else { return ModuleSeeds.ProxyReport() }
        do {
            return try ModuleSeeds(store: local).writeProxy(
                goSum: GoSum(text: String(decoding: goSum, as: UTF8.self)), into: directory, withZips: withZips)
        } catch {
            GoModCache.warn(
                "gomod: cannot seed the download from the store (\(error)); every module comes from GOPROXY")
            FileSystem.removeTree(directory)
            return ModuleSeeds.ProxyReport()
        }
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var s = self
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }
}
