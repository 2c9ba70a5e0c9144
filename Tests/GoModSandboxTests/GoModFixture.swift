import CASBridgeTestSupport
import Foundation
import Testing

/// A file:// GOPROXY with a small module graph, and a monorepo of two go.mod files
/// (`repo/a`, `repo/b`) that share `example.com/shared`. Built with
/// Tests/GoModFixtures/goproxy.py and `go mod tidy` (GOSUMDB=off, offline).
final class GoModFixture: @unchecked Sendable {
    let temp: TemporaryDirectory
    let go: String
    var proxy: String { temp.sub("proxy") }
    var repo: String { temp.sub("repo") }
    var store: String { temp.sub("store") }

    /// The modules: path, version, requirements, and Go source.
    static let modules: [(String, String, [String], String)] = [
        ("example.com/dep", "v1.0.0", [], "package dep\n\nfunc Name() string { return \"dep\" }\n"),
        (
            "example.com/Upper/up", "v1.2.0", ["example.com/dep@v1.0.0"],
            "package up\n\nimport \"example.com/dep\"\n\nfunc Hello() string { return \"up+\" + dep.Name() }\n"
        ),
        ("example.com/shared", "v1.1.0", [], "package shared\n\nconst Word = \"shared\"\n"),
        (
            "example.com/other", "v0.3.0", ["example.com/shared@v1.1.0"],
            "package other\n\nimport \"example.com/shared\"\n\nfunc Say() string { return \"other+\" + shared.Word }\n"
        ),
    ]

    init() async throws {
        guard let go = TestPaths.go else {
            throw FixtureError("no go binary: run scripts/install-deps.sh (or set CASBRIDGE_TEST_GO)")
        }
        self.go = go
        temp = try TemporaryDirectory("gomod")
        let fm = FileManager.default
        for (path, version, requires, source) in GoModFixture.modules {
            let src = temp.sub("src/\(path)")
            try fm.createDirectory(atPath: src, withIntermediateDirectories: true)
            try source.write(
                toFile: "\(src)/\(path.split(separator: "/").last!.lowercased()).go", atomically: true, encoding: .utf8)
            try "BSD-style license for tests\n".write(toFile: "\(src)/LICENSE", atomically: true, encoding: .utf8)
            var args = ["/usr/bin/env", "python3", GoModFixture.proxyScript, "add", proxy, path, version, src]
            for r in requires { args += ["--require", r] }
            try GoModFixture.check(try await ProcessRunner.run(args))
        }
        try writeModule(
            "a", module: "example.com/repo/a",
            imports: ["example.com/Upper/up", "example.com/shared"], body: "up.Hello() + \" \" + shared.Word")
        try writeModule(
            "b", module: "example.com/repo/b", imports: ["example.com/other", "example.com/shared"],
            body: "other.Say() + \" \" + shared.Word")
        for name in ["a", "b"] { try await tidy("\(repo)/\(name)") }
        // Places discovery must skip.
        for skipped in ["repo/a/vendor/x", "repo/a/testdata/m", "repo/.hidden/m"] {
            try fm.createDirectory(atPath: temp.sub(skipped), withIntermediateDirectories: true)
            try "module skipped\n".write(toFile: temp.sub("\(skipped)/go.mod"), atomically: true, encoding: .utf8)
        }
    }

    static var proxyScript: String { "\(TestPaths.repoRoot)/Tests/GoModFixtures/goproxy.py" }

    func writeModule(_ name: String, module: String, imports: [String], body: String) throws {
        let dir = "\(repo)/\(name)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "module \(module)\n\ngo 1.22\n".write(toFile: "\(dir)/go.mod", atomically: true, encoding: .utf8)
        let importLines = imports.map { "\t\"\($0)\"\n" }.joined()
        try "package main\n\nimport (\n\t\"fmt\"\n\(importLines))\n\nfunc main() { fmt.Println(\(body)) }\n"
            .write(toFile: "\(dir)/main.go", atomically: true, encoding: .utf8)
    }

    /// The environment for the go command and cacheprog: the proxy, no checksum database
    /// (go.sum is created offline from our zips), a private GOCACHE.
    var goEnvironment: [String: String] {
        [
            "GOPROXY": "file://\(proxy)", "GOSUMDB": "off", "GOTOOLCHAIN": "local", "GOFLAGS": "-modcacherw",
            "GOMODCACHE": temp.sub("tidycache"), "GOCACHE": GoModFixture.sharedGoCache, "GOWORK": "off",
            "PATH": "\((go as NSString).deletingLastPathComponent):/usr/bin:/bin", "GOCACHEPROG": "",
        ]
    }

    /// A build cache shared by the tests' direct go commands (the go command keeps it
    /// safe for concurrent use), so the standard library compiles once.
    static let sharedGoCache =
        "\(ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp")/casbridge-gomod-tests-gocache"

    /// A PATH with no `go` on it.
    static let pathWithoutGo = "/usr/bin:/bin"

    func tidy(_ dir: String) async throws {
        try GoModFixture.check(
            try await ProcessRunner.run([go, "mod", "tidy"], environment: goEnvironment, directory: dir))
    }

    /// Runs `cacheprog gomod ARGS`.
    func gomod(_ args: [String], directory: String? = nil, environment: [String: String] = [:]) async throws
        -> ProcessRunner.Result
    {
        var env = goEnvironment
        env["GOMODCACHE"] = nil
        env.merge(environment) { $1 }
        return try await ProcessRunner.run(
            [TestPaths.cacheprog, "gomod"] + args, environment: env, directory: directory ?? repo,
            removing: ["GOMODCACHE", "CASBRIDGE_REMOTE"])
    }

    @discardableResult
    static func check(_ r: ProcessRunner.Result) throws -> ProcessRunner.Result {
        guard r.status == 0 else { throw FixtureError("command failed: \(r.output)") }
        return r
    }
}
