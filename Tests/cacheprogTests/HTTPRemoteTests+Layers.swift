import CASBridge
import CASBridgeTestSupport
import Foundation
import Testing

extension HTTPRemoteTests {
    @Test("a pull request's job writes to its own prefix and reads the default branch's, never writing it")
    func layeredRemotes() async throws {
        let nginx = try await NginxServer(prefixes: true)
        let main = "\(nginx.url)/main"
        let pr = "\(nginx.url)/pr-1"
        let first = try await build("main", store: "storeMain", remote: main, gocache: "gcMain")
        try #require(first.status == 0, "\(first.output)")
        #expect(GoModuleFixture.compileCount(first.stderr) >= 4)
        let mainFiles = (nginx.stored("main/ac").sorted(), nginx.stored("main/cas").sorted())
        #expect(!mainFiles.0.isEmpty && !mainFiles.1.isEmpty)

        // Read through the environment variable: everything comes from main's store, nothing is written there.
        let read = try await build(
            "pr-read", store: "storePR1", remote: pr, gocache: "gcPR1",
            extraEnvironment: ["CASBRIDGE_REMOTE_READ": "\n\(main)\n"])
        try #require(read.status == 0, "\(read.output)")
        #expect(GoModuleFixture.compileCount(read.stderr) == 0, "compiled despite main's warm store:\n\(read.stderr)")
        #expect(try binary("pr-read") == binary("main"))
        let s = try stats("pr-read")
        #expect((s["remote"] as? [String: Any])?["manifestHits"] as? Int ?? 0 >= 4, "main's manifest was used: \(s)")

        // A change of the pull request's, with the flag: its new outputs go to its own prefix only.
        try touchModule("pr")
        let changed = try await build(
            "pr-change", store: "storePR2", remote: "\(pr) --remote-read \(main)", gocache: "gcPR2")
        try #require(changed.status == 0, "\(changed.output)")
        let compiled = GoModuleFixture.compileCount(changed.stderr)
        #expect(compiled >= 1, "the changed packages compile")
        #expect(nginx.stored("pr-1/ac").count >= compiled, "its entries are uploaded to its own prefix")
        #expect(
            (nginx.stored("main/ac").sorted(), nginx.stored("main/cas").sorted()) == mainFiles,
            "the default branch's store is never written")
    }
}
