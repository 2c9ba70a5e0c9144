import CASBridge
import CASBridgeTestSupport
import Foundation
import GoModSandbox
import Testing

@Suite struct SandboxTests {
    /// Every digest reachable from tree `root` in `store`.
    static func reachable(_ root: Digest, store: LocalStore) throws -> Set<Digest> {
        var out: Set<Digest> = [root]
        let reader = TreeMaterializer(store: store)
        for e in try reader.readTree(root, relative: "").entries {
            if e.kind == .directory {
                out.formUnion(try reachable(e.digest, store: store))
            } else {
                out.insert(e.digest)
            }
        }
        return out
    }

    /// The digest of the subtree at `path` (slash-separated) in tree `root`.
    static func subtree(_ root: Digest, _ path: String, store: LocalStore) throws -> Digest? {
        var digest = root
        for name in path.split(separator: "/") {
            let tree = try TreeMaterializer(store: store).readTree(digest, relative: "")
            guard let e = tree.entries.first(where: { $0.name == name }) else { return nil }
            digest = e.digest
        }
        return digest
    }

    static func blobFiles(_ store: String) -> [String] {
        let root = "\(store)/v1/blobs"
        return ((try? FileManager.default.subpathsOfDirectory(atPath: root)) ?? []).filter { $0.count > 64 }
    }

    @Test func monorepoDownloadsOnceMaterialisesAndBuildsOffline() async throws {
        let f = try await GoModFixture()
        // First download: both go.mod files, with the proxy.
        let first = try GoModFixture.check(await f.gomod(["download", "--dir", f.store, "./..."]))
        let lines = first.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(lines.count == 2, "vendor, testdata and hidden go.mod files are skipped: \(first.output)")
        let digestA = try #require(Digest(hex: lines[0][0]))
        let digestB = try #require(Digest(hex: lines[1][0]))
        #expect(lines[0][1].hasSuffix("/repo/a") && lines[1][1].hasSuffix("/repo/b"))
        #expect(digestA != digestB)
        #expect(!first.stderr.contains("\u{1B}[K"), "no progress drawing when stderr is not a terminal")

        // Shared modules are stored once: the same subtree is reachable from both trees,
        // and the store holds exactly the union of the blobs of both trees.
        let store = try LocalStore(directory: f.store)
        let sharedA = try SandboxTests.subtree(digestA, "example.com/shared@v1.1.0", store: store)
        let sharedB = try SandboxTests.subtree(digestB, "example.com/shared@v1.1.0", store: store)
        #expect(sharedA != nil && sharedA == sharedB)
        let union = try SandboxTests.reachable(digestA, store: store).union(
            SandboxTests.reachable(digestB, store: store))
        #expect(Set(SandboxTests.blobFiles(f.store).map { String($0.suffix(64)) }) == Set(union.map(\.hex)))
        #expect(try SandboxTests.subtree(digestA, "cache/download/sumdb", store: store) == nil)
        #expect(try SandboxTests.subtree(digestA, "example.com/!upper/up@v1.2.0", store: store) != nil)

        // The same go.mod and go.sum give the same digest in another store directory.
        let other = try GoModFixture.check(await f.gomod(["download", "--dir", f.temp.sub("store2"), "a"]))
        #expect(other.stdout == "\(digestA.hex)\n")

        // Repeat without the proxy and without go on PATH: served from the store.
        try FileManager.default.removeItem(atPath: f.proxy)
        for dir in GoModFixture.pathWithoutGo.split(separator: ":") {
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/go"), "go must not be on the PATH of the repeat")
        }
        let repeatRun = try GoModFixture.check(
            await f.gomod(
                ["download", "--dir", f.store, "--json", "./..."], environment: ["PATH": GoModFixture.pathWithoutGo]))
        let decoded = try JSONDecoder().decode([EnsureResult].self, from: Data(repeatRun.stdout.utf8))
        #expect(decoded.map(\.digest) == [digestA.hex, digestB.hex])
        #expect(decoded.allSatisfy { $0.source == .local })
        // A key that is not cached cannot be served without go: a clear error.
        try "\n".write(toFile: "\(f.repo)/b/extra.txt", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: "\(f.repo)/b", toPath: "\(f.repo)/c")
        let goMod = try String(contentsOfFile: "\(f.repo)/c/go.mod", encoding: .utf8)
        try (goMod + "\n// changed\n").write(toFile: "\(f.repo)/c/go.mod", atomically: true, encoding: .utf8)
        let noGo = try await f.gomod(
            ["download", "--dir", f.store, "c"], environment: ["PATH": GoModFixture.pathWithoutGo])
        #expect(noGo.status != 0 && noGo.stderr.contains("go command is not on PATH"), "\(noGo.output)")

        // Materialise and build offline (proxy gone, GOPROXY=off, -mod=readonly).
        let mat = f.temp.sub("mat")
        try GoModFixture.check(await f.gomod(["materialize", "--dir", f.store, digestA.hex, "--into", mat]))
        let attrs = try FileManager.default.attributesOfItem(atPath: "\(mat)/example.com/shared@v1.1.0")
        #expect((attrs[.posixPermissions] as? Int) == 0o555)
        let again = try GoModFixture.check(
            await f.gomod(["materialize", "--dir", f.store, digestA.hex, "--into", mat]))
        #expect(again.stderr.contains("is complete"))
        var env = f.goEnvironment
        env["GOMODCACHE"] = mat
        env["GOPROXY"] = "off"
        env["GOFLAGS"] = "-mod=readonly"
        let out = f.temp.sub("a.bin")
        try GoModFixture.check(
            await ProcessRunner.run([f.go, "build", "-o", out, "."], environment: env, directory: "\(f.repo)/a"))
        #expect(try await ProcessRunner.run([out]).stdout == "up+dep shared\n")

        // A tampered go.sum is caught by the offline build.
        let sumPath = "\(f.repo)/a/go.sum"
        let sum = try String(contentsOfFile: sumPath, encoding: .utf8)
        let tampered =
            sum.split(separator: "\n").map { line -> String in
                guard line.hasPrefix("example.com/shared v1.1.0 h1:") else { return String(line) }
                return "example.com/shared v1.1.0 h1:" + String(repeating: "A", count: 43) + "="
            }.joined(separator: "\n") + "\n"
        #expect(tampered != sum)
        try tampered.write(toFile: sumPath, atomically: true, encoding: .utf8)
        let bad = try await ProcessRunner.run(
            [f.go, "build", "-o", out, "."], environment: env, directory: "\(f.repo)/a")
        #expect(bad.status != 0 && bad.stderr.contains("checksum mismatch"), "\(bad.output)")
        try sum.write(toFile: sumPath, atomically: true, encoding: .utf8)

        // gomod exec: the whole hermetic step, offline, with GOCACHEPROG = cacheprog.
        let execOut = f.temp.sub("b.bin")
        let exec = try await f.gomod(
            ["exec", "--dir", f.store, "b", "--", "go", "build", "-o", execOut, "."],
            environment: ["GOCACHE": "", "GOFLAGS": ""])
        #expect(exec.status == 0, "\(exec.output)")
        #expect(try await ProcessRunner.run([execOut]).stdout == "other+shared shared\n")
        let printed = try await f.gomod([
            "exec", "--dir", f.store, "b", "--", "go", "env", "GOMODCACHE", "GOPROXY", "GOFLAGS", "GOCACHEPROG",
        ])
        let values = printed.stdout.split(separator: "\n").map(String.init)
        #expect(values.count == 4 && values[0] == "\(f.store)/gomod/\(digestB.hex)" && values[1] == "off")
        #expect(values.count == 4 && values[2] == "-mod=readonly" && values[3].contains("cacheprog --dir \(f.store)"))
    }

    @Test func tamperedGoSumMissingEntriesAndUnservableModulesAreRefused() async throws {
        let f = try await GoModFixture()
        let a = "\(f.repo)/a"
        let sum = try String(contentsOfFile: "\(a)/go.sum", encoding: .utf8)

        // A zip hash that does not match: go's own verification names the module.
        let tampered = sum.replacingOccurrences(
            of: #"example.com/shared v1.1.0 h1:[^\n]*"#,
            with: "example.com/shared v1.1.0 h1:" + String(repeating: "B", count: 43) + "=",
            options: .regularExpression)
        try tampered.write(toFile: "\(a)/go.sum", atomically: true, encoding: .utf8)
        let bad = try await f.gomod(["download", "--dir", f.store, "a"])
        #expect(
            bad.status != 0 && bad.stderr.contains("example.com/shared@v1.1.0")
                && bad.stderr.contains("checksum mismatch"), "\(bad.output)")

        // Missing entries: refused, and the module's own go.sum is left untouched.
        let trimmed =
            sum.split(separator: "\n").filter { !$0.hasPrefix("example.com/dep ") }.joined(separator: "\n") + "\n"
        try trimmed.write(toFile: "\(a)/go.sum", atomically: true, encoding: .utf8)
        let missing = try await f.gomod(["download", "--dir", f.store, "a"])
        #expect(
            missing.status != 0 && missing.stderr.contains("missing entries")
                && missing.stderr.contains("example.com/dep@v1.0.0"), "\(missing.output)")
        #expect(missing.stderr.contains("go mod tidy"))
        #expect(try String(contentsOfFile: "\(a)/go.sum", encoding: .utf8) == trimmed)
        try sum.write(toFile: "\(a)/go.sum", atomically: true, encoding: .utf8)

        // A version the proxy cannot serve: the error names it.
        let goMod = try String(contentsOfFile: "\(a)/go.mod", encoding: .utf8)
        try goMod.replacingOccurrences(of: "example.com/shared v1.1.0", with: "example.com/shared v1.9.0")
            .write(toFile: "\(a)/go.mod", atomically: true, encoding: .utf8)
        let unserved = try await f.gomod(["download", "--dir", f.store, "a"])
        #expect(unserved.status != 0 && unserved.stderr.contains("example.com/shared@v1.9.0"), "\(unserved.output)")
        // Nothing was recorded for any of the failures.
        #expect(try LocalStore(directory: f.store).entryCount == 0)
    }

    @Test func localReplacementsAndVendoredModules() async throws {
        let f = try await GoModFixture()
        let fm = FileManager.default
        // A local replacement: used from disk, never downloaded, its go.mod part of the key.
        let lib = "\(f.repo)/lib"
        try fm.createDirectory(atPath: lib, withIntermediateDirectories: true)
        try "module example.com/lib\n\ngo 1.22\n\nrequire example.com/dep v1.0.0\n".write(
            toFile: "\(lib)/go.mod", atomically: true, encoding: .utf8)
        try "package lib\n\nimport \"example.com/dep\"\n\nfunc V() string { return \"lib+\" + dep.Name() }\n".write(
            toFile: "\(lib)/lib.go", atomically: true, encoding: .utf8)
        try f.writeModule("r", module: "example.com/repo/r", imports: ["example.com/lib"], body: "lib.V()")
        try "module example.com/repo/r\n\ngo 1.22\n\nreplace example.com/lib => ../lib\n".write(
            toFile: "\(f.repo)/r/go.mod", atomically: true, encoding: .utf8)
        try await f.tidy("\(f.repo)/r")
        let r = try GoModFixture.check(await f.gomod(["download", "--dir", f.store, "--json", "r"]))
        let result = try #require(try JSONDecoder().decode([EnsureResult].self, from: Data(r.stdout.utf8)).first)
        #expect(result.source == .downloaded)
        let store = try LocalStore(directory: f.store)
        #expect(try SandboxTests.subtree(result.rootDigest, "example.com/dep@v1.0.0", store: store) != nil)
        #expect(try SandboxTests.subtree(result.rootDigest, "example.com/lib", store: store) == nil)
        let exec = try await f.gomod(["exec", "--dir", f.store, "r", "--", "go", "run", "."])
        #expect(exec.status == 0 && exec.stdout == "lib+dep\n", "\(exec.output)")

        // A vendored module: nothing to download, the go command is not even needed.
        var env = f.goEnvironment
        env["GOFLAGS"] = ""
        try GoModFixture.check(
            await ProcessRunner.run([f.go, "mod", "vendor"], environment: env, directory: "\(f.repo)/b"))
        try FileManager.default.removeItem(atPath: f.proxy)
        let v = try GoModFixture.check(
            await f.gomod(
                ["download", "--dir", f.store, "--json", "b"], environment: ["PATH": GoModFixture.pathWithoutGo]))
        #expect(v.stdout.contains("\"vendored\""))
        let vexec = try await f.gomod(["exec", "--dir", f.store, "b", "--", "go", "run", "."])
        #expect(vexec.status == 0 && vexec.stdout == "other+shared shared\n", "\(vexec.output)")
    }

    @Test func aSecondMachineMaterialisesFromTheRemoteWithoutGo() async throws {
        let f = try await GoModFixture()
        let remote = try LocalStore(directory: f.temp.sub("remote"))
        let machineA = try LocalStore(directory: f.temp.sub("machineA"))
        var env = f.goEnvironment
        env["GOMODCACHE"] = nil
        env["GOFLAGS"] = nil
        let first = try await GoModCache(local: machineA, remote: remote, showProgress: false, environment: env)
            .ensure(moduleDirectory: "\(f.repo)/a")
        #expect(first.source == .downloaded)

        try FileManager.default.removeItem(atPath: f.proxy)
        env["PATH"] = GoModFixture.pathWithoutGo
        let machineB = try LocalStore(directory: f.temp.sub("machineB"))
        let cacheB = GoModCache(local: machineB, remote: remote, showProgress: false, environment: env)
        let second = try await cacheB.ensure(moduleDirectory: "\(f.repo)/a")
        #expect(second.source == .remote)
        #expect(second.digest == first.digest)
        #expect(cacheB.isComplete(second.rootDigest))
        let mat = f.temp.sub("matB")
        let report = try cacheB.materialize(second.rootDigest, into: mat)
        #expect(report.created > 0 && !report.quick)
        #expect(FileManager.default.fileExists(atPath: "\(mat)/example.com/!upper/up@v1.2.0/up.go"))
        // A third machine that knows only the digest fetches the tree through the remote.
        let machineC = try LocalStore(directory: f.temp.sub("machineC"))
        let cacheC = GoModCache(local: machineC, remote: remote, showProgress: false, environment: env)
        try await cacheC.fetchTree(second.rootDigest)
        #expect(cacheC.isComplete(second.rootDigest))
    }

    @Test func damagedBlobsAreNamedAndMaterialisationIsIdempotent() async throws {
        let f = try await GoModFixture()
        var env = f.goEnvironment
        env["GOMODCACHE"] = nil
        env["GOFLAGS"] = nil
        let store = try LocalStore(directory: f.store)
        let cache = GoModCache(local: store, showProgress: false, environment: env)
        let result = try await cache.ensure(moduleDirectory: "\(f.repo)/b")
        let root = result.rootDigest
        let mat = f.temp.sub("mat")
        let firstRun = try cache.materialize(root, into: mat)
        #expect(firstRun.created > 0)
        let second = try cache.materialize(root, into: mat)
        #expect(second.quick && second.present == firstRun.created)
        // A file removed from the materialised tree is put back.
        let file = "\(mat)/example.com/other@v0.3.0/other.go"
        chmod("\(mat)/example.com/other@v0.3.0", 0o755)
        try FileManager.default.removeItem(atPath: file)
        let repaired = try cache.materialize(root, into: mat)
        #expect(!repaired.quick && repaired.created == 1)
        #expect(FileManager.default.fileExists(atPath: file))

        // Damage the blob behind other.go: a fresh materialisation names the file.
        let otherTree = try #require(try SandboxTests.subtree(root, "example.com/other@v0.3.0", store: store))
        let entry = try #require(
            try TreeMaterializer(store: store).readTree(otherTree, relative: "").entries.first { $0.name == "other.go" }
        )
        let blob = store.blobPath(entry.digest)
        chmod(blob, 0o644)
        try "package other // damaged\n".write(toFile: blob, atomically: false, encoding: .utf8)
        do {
            try cache.materialize(root, into: f.temp.sub("mat2"))
            Issue.record("a damaged blob was materialised")
        } catch let error as CASError {
            #expect(error.code == .digestMismatch)
            #expect(error.message.contains("example.com/other@v0.3.0/other.go"), "\(error)")
        }
    }
}
