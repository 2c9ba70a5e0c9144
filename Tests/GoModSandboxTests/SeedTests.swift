import CASBridge
import CASBridgeTestSupport
import Foundation
import GoModSandbox
import Testing

/// A go.sum change downloads only the module versions the store does not hold yet.
@Suite struct SeedTests {
    /// Parses `gomod download --json` output.
    static func results(_ stdout: String) throws -> [[String: Any]] {
        try #require(JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [[String: Any]])
    }

    /// With `--with-zips` the tree keeps the zips' bytes, so the original zips are served.
    @Test(arguments: [false, true]) func goSumChangeFetchesOnlyTheChangedModuleFromTheProxy(withZips: Bool) async throws
    {
        let f = try await GoModFixture()
        // A new version of example.com/shared in the proxy.
        let src = f.temp.sub("src/example.com/shared")
        try "package shared\n\nconst Word = \"shared, v1.2.0\"\n".write(
            toFile: "\(src)/shared.go", atomically: true, encoding: .utf8)
        try GoModFixture.check(
            await ProcessRunner.run([
                "/usr/bin/env", "python3", GoModFixture.proxyScript, "add", f.proxy, "example.com/shared", "v1.2.0",
                src,
            ]))
        let proxy = try CountingProxy(directory: f.proxy, scratch: f.temp.path)
        let env = ["GOPROXY": proxy.url]
        let zips = withZips ? ["--with-zips"] : []

        let first = try GoModFixture.check(
            await f.gomod(["download", "--json", "--dir", f.store, "a"] + zips, environment: env))
        let firstRequests = proxy.requests
        #expect(try SeedTests.results(first.stdout).first?["seededModules"] as? Int == 0)
        #expect(firstRequests.contains { $0.contains("/example.com/dep/@v/v1.0.0.zip") }, "\(firstRequests)")

        // go.sum changes: shared v1.1.0 -> v1.2.0 (edited offline from the file:// proxy).
        try GoModFixture.check(
            await ProcessRunner.run(
                [f.go, "get", "example.com/shared@v1.2.0"], environment: f.goEnvironment, directory: "\(f.repo)/a"))
        try await f.tidy("\(f.repo)/a")
        let goSum = try String(contentsOfFile: "\(f.repo)/a/go.sum", encoding: .utf8)
        #expect(goSum.contains("example.com/shared v1.2.0 h1:") && !goSum.contains("example.com/shared v1.1.0"))

        let second = try GoModFixture.check(
            await f.gomod(["download", "--json", "--dir", f.store, "a"] + zips, environment: env))
        let newRequests = Array(proxy.requests.dropFirst(firstRequests.count))
        // Only the changed module came from the proxy; the other two came from the store.
        #expect(!newRequests.isEmpty)
        #expect(
            newRequests.allSatisfy { $0.hasPrefix("200 /example.com/shared/@v/v1.2.0.") }, "\(newRequests)")
        let seeded = try #require(SeedTests.results(second.stdout).first)
        #expect(seeded["source"] as? String == "downloaded")
        #expect(seeded["seededModules"] as? Int == 2, "example.com/Upper/up and example.com/dep: \(second.output)")

        // The same tree as a full download into an empty store.
        let fullStore = f.temp.sub("store-full")
        let before = proxy.requests.count
        let full = try GoModFixture.check(
            await f.gomod(["download", "--json", "--dir", fullStore, "a"] + zips, environment: env))
        let fullResult = try #require(SeedTests.results(full.stdout).first)
        #expect(fullResult["seededModules"] as? Int == 0)
        #expect(proxy.requests.count - before > newRequests.count)
        #expect(fullResult["digest"] as? String == seeded["digest"] as? String)

        // The seeded tree builds offline.
        let build = try await f.gomod(
            ["exec", "--dir", f.store] + zips + ["a", "--", "go", "run", "."],
            environment: ["GOPROXY": "off", "PATH": f.goEnvironment["PATH"]!, "GOCACHE": GoModFixture.sharedGoCache])
        #expect(build.status == 0 && build.stdout.contains("shared, v1.2.0"), "\(build.output)")
    }
}
