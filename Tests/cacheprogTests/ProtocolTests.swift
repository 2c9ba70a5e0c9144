import CASBridgeTestSupport
import Foundation
import Testing

@Test func helpDocumentsEnvironment() throws {
    let result = try ProcessRunner.run([TestPaths.cacheprog, "serve", "--help"])
    #expect(result.status == 0)
    #expect(result.stdout.contains("CASBRIDGE_DIR"))
}
