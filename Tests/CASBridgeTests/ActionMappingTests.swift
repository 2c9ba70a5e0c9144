import CASBridge
import CASBridgeTestSupport
import Foundation
import Testing

@Suite("ActionMapping")
struct ActionMappingTests {
    /// ActionID = bytes 0...31.
    static let fixedActionID = Digest(bytes: (0..<32).map { UInt8($0) })!

    @Test("the action key of a fixed ActionID matches the one BuildGrid's protobuf modules compute")
    func goldenKey() {
        // Computed with .tools/venv/bin/python (buildgrid's remote_execution_pb2,
        // SerializeToString(deterministic=True)) and hashlib.sha256; see crossCheckWithPython.
        let key = ActionMapping.actionKey(for: Self.fixedActionID)
        #expect(key.digest.hex == "0bfe19b2535d9d1c303553c50cc81ce8e4e79398fb34994cd8ef9a0927af1888")
        #expect(key.size == 152)
    }

    @Test("the mapping is deterministic and distinct per ActionID")
    func determinism() {
        let a = SHA256.hash(Array("a".utf8))
        let b = SHA256.hash(Array("b".utf8))
        #expect(ActionMapping.action(for: a) == ActionMapping.action(for: a))
        #expect(ActionMapping.actionKey(for: a).digest != ActionMapping.actionKey(for: b).digest)
        let entry = ActionEntry(outputID: b, size: 7, time: Timestamp(nanoseconds: 5))
        #expect(ActionMapping.actionResult(for: entry) == ActionMapping.actionResult(for: entry))
    }

    @Test(
        "ActionResult round-trips outputID, size and time",
        arguments: [
            Int64(0), 1, 999_999_999, 1_700_000_000_123_456_789, -1_500_000_000,
        ])
    func roundTrip(nanoseconds: Int64) {
        for size in [Int64(0), 1, 300, 1 << 40] {
            let entry = ActionEntry(
                outputID: SHA256.hash(Array("out \(size)".utf8)), size: size, time: Timestamp(nanoseconds: nanoseconds))
            #expect(ActionMapping.entry(fromActionResult: ActionMapping.actionResult(for: entry)) == entry)
        }
    }

    @Test("malformed or unusable ActionResults decode to nil")
    func rejects() {
        let entry = ActionEntry(outputID: SHA256.hash([1]), size: 1, time: Timestamp(nanoseconds: 0))
        let good = ActionMapping.actionResult(for: entry)
        #expect(ActionMapping.entry(fromActionResult: []) == nil, "no output file")
        #expect(ActionMapping.entry(fromActionResult: Array(good.dropLast())) == nil, "truncated")
        #expect(ActionMapping.entry(fromActionResult: Array("not a protobuf at all".utf8)) == nil)
        #expect(ActionMapping.entry(fromActionResult: good + good) == nil, "two output files")
        #expect(ActionMapping.entry(fromActionResult: good + [0x20, 0x01]) == nil, "exit code 1")
    }

    @Test("Python's protobuf (BuildGrid) and ActionMapping agree byte for byte, both ways")
    func crossCheckWithPython() async throws {
        guard let python = TestPaths.venvTool("python") else {
            Issue.record("missing .tools/venv/bin/python: run scripts/install-deps.sh")
            return
        }
        let entry = ActionEntry(
            outputID: SHA256.hash(Array("python".utf8)), size: 12345,
            time: Timestamp(nanoseconds: 1_700_000_000_123_456_789))
        let script = """
            import hashlib, sys
            from buildgrid._protos.build.bazel.remote.execution.v2 import remote_execution_pb2 as r
            from google.protobuf import timestamp_pb2
            aid = sys.argv[1]
            cmd = r.Command(arguments=["casbridge-go-action", aid]).SerializeToString(deterministic=True)
            act = r.Action(
                command_digest=r.Digest(hash=hashlib.sha256(cmd).hexdigest(), size_bytes=len(cmd)),
                input_root_digest=r.Digest(hash=hashlib.sha256(b"").hexdigest()),
                salt=b"casbridge/v1").SerializeToString(deterministic=True)
            ar = r.ActionResult(
                output_files=[r.OutputFile(path="output", digest=r.Digest(hash=sys.argv[2], size_bytes=int(sys.argv[3])))],
                execution_metadata=r.ExecutedActionMetadata(
                    worker="casbridge",
                    worker_completed_timestamp=timestamp_pb2.Timestamp(seconds=int(sys.argv[4]), nanos=int(sys.argv[5]))))
            print(cmd.hex())
            print(act.hex())
            print(hashlib.sha256(act).hexdigest())
            print(ar.SerializeToString(deterministic=True).hex())
            # A result with extra fields another REAPI writer might set.
            other = r.ActionResult()
            other.CopyFrom(ar)
            other.stdout_raw = b"hello"
            other.execution_metadata.queued_timestamp.seconds = 5
            print(other.SerializeToString().hex())
            """
        let action = SHA256.hash(Array("python action".utf8))
        let result = try await ProcessRunner.run([
            python, "-c", script, action.hex, entry.outputID.hex, "\(entry.size)", "1700000000", "123456789",
        ])
        try #require(result.status == 0, "\(result.output)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 5)
        #expect(lines[0] == hex(ActionMapping.command(for: action)))
        #expect(lines[1] == hex(ActionMapping.action(for: action)))
        #expect(lines[2] == ActionMapping.actionKey(for: action).digest.hex)
        #expect(lines[3] == hex(ActionMapping.actionResult(for: entry)))
        #expect(ActionMapping.entry(fromActionResult: unhex(lines[4])) == entry)
    }

    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    func unhex(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = text.startIndex
        while i < text.endIndex {
            let j = text.index(i, offsetBy: 2)
            out.append(UInt8(text[i..<j], radix: 16)!)
            i = j
        }
        return out
    }
}
