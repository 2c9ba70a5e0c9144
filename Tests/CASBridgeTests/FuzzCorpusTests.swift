import CASBridgeFuzz
import CASBridgeTestSupport
import Foundation
import Testing

@Suite("Fuzz corpus")
struct FuzzCorpusTests {
    /// The committed corpora hold the seeds and every input that once crashed a target
    /// (`crash-*`): each runs through its target as fuzz/run.sh runs it, so a crash fixed
    /// once stays fixed in the ordinary test build, without the sanitizers.
    @Test("every committed fuzz input runs through its target without a crash", arguments: FuzzTarget.allCases)
    func corpus(_ target: FuzzTarget) throws {
        let directory = "\(TestPaths.repoRoot)/fuzz/corpus/\(target.rawValue)"
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(!names.isEmpty, "\(directory) holds no seed")
        for name in names {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)"))
            bytes.withUnsafeBytes { target.run($0) }
        }
    }
}
