import CASBridgeTestSupport
import Foundation
import Testing

/// The real go command (Go 1.27.3) building through the helper.
@Suite("go command end to end", .serialized)
struct GoEndToEndTests {
    let work: TemporaryDirectory
    let module: String
    let go: String

    init() throws {
        go = try #require(TestPaths.go, "no go binary: run scripts/install-deps.sh (or set CASBRIDGE_TEST_GO)")
        work = try TemporaryDirectory("go-e2e")
        module = work.sub("module")
        try GoModuleFixture.write(to: module)
    }

    func env(store: String?, gocache: String) -> [String: String] {
        var e = GoModuleFixture.baseEnvironment(gocache: gocache)
        if let store { e["GOCACHEPROG"] = "\(TestPaths.cacheprog) --dir \(store)" }
        return e
    }

    func goRun(_ args: [String], store: String?, gocache: String) async throws -> ProcessRunner.Result {
        let result = try await ProcessRunner.run(
            [go] + args, environment: env(store: store, gocache: gocache), directory: module, removing: ["GOFLAGS"])
        return result
    }

    @Test("cold then warm: zero compiles on the warm build, binaries identical to the built-in cache's")
    func coldThenWarm() async throws {
        let store = work.sub("store")
        let cold = try await goRun(
            ["build", "-x", "-o", work.sub("cold"), "./cmd/app"], store: store, gocache: work.sub("gc1"))
        #expect(cold.status == 0, "\(cold.output)")
        #expect(GoModuleFixture.compileCount(cold.stderr) >= 4, "the cold build compiles")

        let warm = try await goRun(
            ["build", "-x", "-o", work.sub("warm"), "./cmd/app"], store: store, gocache: work.sub("gc2"))
        #expect(warm.status == 0, "\(warm.output)")
        #expect(GoModuleFixture.compileCount(warm.stderr) == 0, "warm build compiled:\n\(warm.stderr)")

        let builtin = try await goRun(
            ["build", "-o", work.sub("builtin"), "./cmd/app"], store: nil, gocache: work.sub("gc3"))
        #expect(builtin.status == 0, "\(builtin.output)")
        let a = try Data(contentsOf: URL(fileURLWithPath: work.sub("cold")))
        let b = try Data(contentsOf: URL(fileURLWithPath: work.sub("warm")))
        let c = try Data(contentsOf: URL(fileURLWithPath: work.sub("builtin")))
        #expect(a == b)
        #expect(a == c, "binaries differ from the built-in cache's")
        let run = try await ProcessRunner.run([work.sub("warm")])
        #expect(run.stdout.contains("fixture says 42"))
    }

    @Test("go test is (cached) the second time and not after go clean -testcache; go vet works")
    func testCaching() async throws {
        let store = work.sub("store")
        let gocache = work.sub("gc")
        let first = try await goRun(["test", "./..."], store: store, gocache: gocache)
        #expect(first.status == 0, "\(first.output)")
        #expect(!first.stdout.contains("(cached)"))
        let second = try await goRun(["test", "./..."], store: store, gocache: gocache)
        #expect(second.status == 0, "\(second.output)")
        #expect(second.stdout.contains("(cached)"), "\(second.stdout)")
        let clean = try await goRun(["clean", "-testcache"], store: store, gocache: gocache)
        #expect(clean.status == 0, "\(clean.output)")
        let third = try await goRun(["test", "./..."], store: store, gocache: gocache)
        #expect(third.status == 0, "\(third.output)")
        #expect(!third.stdout.contains("(cached)"), "after go clean -testcache: \(third.stdout)")

        let vet = try await goRun(["vet", "./..."], store: store, gocache: gocache)
        #expect(vet.status == 0, "\(vet.output)")
        let stats = try await ProcessRunner.run([TestPaths.cacheprog, "stats", "--dir", store, "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])
        // Three go test runs and go vet each started a helper (go clean -testcache needs no cache).
        #expect((report["runs"] as? Int ?? 0) >= 4)
    }

    @Test("four go builds in parallel on one store")
    func parallelBuilds() async throws {
        let store = work.sub("store")
        let results = try await withThrowingTaskGroup(of: ProcessRunner.Result.self) { group in
            for i in 0..<4 {
                group.addTask {
                    try await goRun(
                        ["build", "-o", work.sub("par\(i)"), "./cmd/app"], store: store, gocache: work.sub("pgc\(i)"))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 4)
        for r in results {
            #expect(r.status == 0, "\(r.output)")
        }
        let first = try Data(contentsOf: URL(fileURLWithPath: work.sub("par0")))
        for i in 1..<4 {
            #expect(try Data(contentsOf: URL(fileURLWithPath: work.sub("par\(i)"))) == first)
        }
        // Afterwards the shared store serves a zero-compile build.
        let warm = try await goRun(
            ["build", "-x", "-o", work.sub("after"), "./cmd/app"], store: store, gocache: work.sub("gcw"))
        #expect(GoModuleFixture.compileCount(warm.stderr) == 0)
    }
}
