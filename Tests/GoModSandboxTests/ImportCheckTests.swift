import CASBridge
import CASBridgeTestSupport
import Foundation
import GoModSandbox
import Testing

/// A go.mod that lacks a requirement its packages import is refused at download time.
@Suite struct ImportCheckTests {
    @Test func aGoModMissingARequirementNeedsTidyAndRecordsNothing() async throws {
        let f = try await GoModFixture()
        let goMod = "\(f.repo)/a/go.mod"
        let text = try String(contentsOfFile: goMod, encoding: .utf8)
        let untidy = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.contains("example.com/shared") }.joined(separator: "\n")
        #expect(untidy != text)
        try untidy.write(toFile: goMod, atomically: true, encoding: .utf8)

        let r = try await f.gomod(["download", "--dir", f.store, "a"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("a/go.mod does not require every module its packages import; run go mod tidy"))
        #expect(r.stderr.contains("example.com/shared"), "the error names the package: \(r.stderr)")
        #expect(!r.stderr.contains("go: downloading"))
        let store = try LocalStore(directory: f.store)
        let key = try ModuleKey(directory: "\(f.repo)/a", withZips: false)
        #expect(store.lookup(key.actionID) == nil, "nothing is recorded for the key")
    }
}
