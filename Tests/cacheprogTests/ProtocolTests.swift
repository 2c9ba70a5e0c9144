import CASBridgeTestSupport
import Foundation
import Testing

/// The helper binary driven over pipes byte for byte as the go command drives it.
@Suite("GOCACHEPROG protocol")
struct ProtocolTests {
    let store: TemporaryDirectory

    init() throws {
        store = try TemporaryDirectory("protocol")
    }

    func start(_ extra: [String] = [], environment: [String: String] = [:]) throws -> HelperProcess {
        try HelperProcess(arguments: ["--dir", store.path] + extra, environment: environment)
    }

    @Test("the capabilities line comes first, unprompted")
    func capabilitiesFirst() async throws {
        let helper = try start()
        let line = await helper.readLine()
        #expect(line == #"{"ID":0,"KnownCommands":["get","put","close"]}"#)
        helper.closeInput()
        #expect(await helper.exitStatus() == 0)
    }

    @Test("put then get: the hit carries OutputID, Size, Time and a DiskPath with the body")
    func putThenGet() async throws {
        let helper = try start()
        _ = await helper.readLine()
        let body = Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let actionID = Array(repeating: UInt8(1), count: 32)
        let outputID = SHA256Digest.of(body)
        let before = Date()
        let putID = helper.sendPut(actionID: actionID, outputID: outputID, body: body)
        let put = try #require(await helper.readResponse())
        #expect(put["ID"] as? Int == Int(putID))
        #expect(put["Err"] == nil)
        let putPath = try #require(put["DiskPath"] as? String)
        #expect(putPath.hasPrefix("/"))

        let getID = helper.sendGet(actionID: actionID)
        let get = try #require(await helper.readResponse())
        #expect(get["ID"] as? Int == Int(getID))
        #expect(get["Miss"] == nil)
        #expect(get["OutputID"] as? String == Data(outputID).base64EncodedString())
        #expect(get["Size"] as? Int == body.count)
        let path = try #require(get["DiskPath"] as? String)
        #expect(path.hasPrefix("/"))
        #expect(!URL(fileURLWithPath: path).lastPathComponent.contains("."), "no file extension")
        #expect(FileManager.default.contents(atPath: path) == body)
        let time = try #require(get["Time"] as? String)
        #expect(time.contains("."), "RFC 3339 with fractional seconds: \(time)")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let parsed = try #require(formatter.date(from: time), "\(time) is not RFC 3339")
        #expect(abs(parsed.timeIntervalSince(before)) < 60)

        helper.sendClose()
        let closed = try #require(await helper.readResponse())
        #expect(closed["Err"] == nil)
        #expect(await helper.exitStatus() == 0)

        // A second process sees the entry with the original put time.
        let again = try start()
        _ = await again.readLine()
        again.sendGet(actionID: actionID)
        let hit = try #require(await again.readResponse())
        #expect(hit["Time"] as? String == time, "Time is the original put's")
        again.closeInput()
        #expect(await again.exitStatus() == 0)
    }

    @Test("a miss says Miss")
    func miss() async throws {
        let helper = try start()
        _ = await helper.readLine()
        let id = helper.sendGet(actionID: Array(repeating: 9, count: 32))
        #expect(await helper.readLine() == #"{"ID":\#(id),"Miss":true}"#)
        helper.closeInput()
        #expect(await helper.exitStatus() == 0)
    }

    @Test("ObjectID (Go 1.21–1.23) is accepted as OutputID; an empty body needs no body line")
    func objectIDAndEmptyBody() async throws {
        let helper = try start()
        _ = await helper.readLine()
        let body = Data("hello".utf8)
        helper.sendPut(
            actionID: Array(repeating: 2, count: 32), outputID: SHA256Digest.of(body), body: body, idField: "ObjectID")
        #expect(try #require(await helper.readResponse())["Err"] == nil)
        helper.sendPut(actionID: Array(repeating: 3, count: 32), outputID: SHA256Digest.of(Data()), body: Data())
        let empty = try #require(await helper.readResponse())
        #expect(empty["Err"] == nil)
        helper.sendGet(actionID: Array(repeating: 3, count: 32))
        let hit = try #require(await helper.readResponse())
        #expect(hit["Miss"] == nil)
        #expect(FileManager.default.contents(atPath: try #require(hit["DiskPath"] as? String)) == Data())
        helper.closeInput()
        #expect(await helper.exitStatus() == 0)
    }

    @Test("bad puts are answered with Err, store nothing, and the stream goes on")
    func badPuts() async throws {
        let helper = try start()
        _ = await helper.readLine()
        let body = Data("some output".utf8)
        let wrongDigest = SHA256Digest.of(Data("other".utf8))
        let actionA = Array(repeating: UInt8(4), count: 32)
        helper.sendPut(actionID: actionA, outputID: wrongDigest, body: body)
        let mismatch = try #require(await helper.readResponse())
        #expect((mismatch["Err"] as? String)?.contains("OutputID") == true)

        let actionB = Array(repeating: UInt8(5), count: 32)
        helper.sendPut(actionID: actionB, outputID: SHA256Digest.of(body), body: body, bodySize: body.count + 3)
        let short = try #require(await helper.readResponse())
        #expect((short["Err"] as? String)?.contains("BodySize") == true)

        let actionC = Array(repeating: UInt8(6), count: 32)
        let id = helper.makeID()
        helper.write(
            "{\"ID\":\(id),\"Command\":\"put\",\"ActionID\":\"\(Data(actionC).base64EncodedString())\",\"OutputID\":\"\(Data(SHA256Digest.of(body)).base64EncodedString())\",\"BodySize\":11}\n\n\"!!not base64!!\"\n"
        )
        let invalid = try #require(await helper.readResponse())
        #expect(invalid["ID"] as? Int == Int(id))
        #expect((invalid["Err"] as? String)?.contains("base64") == true)

        for action in [actionA, actionB, actionC] {
            helper.sendGet(actionID: action)
            #expect(try #require(await helper.readResponse())["Miss"] as? Bool == true)
        }
        // Nothing of the rejected bodies was published.
        let blob = store.sub(
            "v1/blobs/\(SHA256Digest.hex(SHA256Digest.of(body)).prefix(2))/\(SHA256Digest.hex(SHA256Digest.of(body)))")
        #expect(!FileManager.default.fileExists(atPath: blob))
        let temps = (try? FileManager.default.contentsOfDirectory(atPath: store.sub("v1/tmp"))) ?? []
        #expect(temps.isEmpty, "temporary files left behind: \(temps)")
        helper.sendClose()
        _ = await helper.readResponse()
        #expect(await helper.exitStatus() == 0)
    }

    @Test("a store that cannot keep puts: each is answered with Err, the first logged, the rest summed up once")
    func unstorablePuts() async throws {
        let helper = try start()
        _ = await helper.readLine()
        // Blob directories cannot be made under a regular file: every put fails to store.
        let blobs = store.sub("v1/blobs")
        try FileManager.default.removeItem(atPath: blobs)
        #expect(FileManager.default.createFile(atPath: blobs, contents: Data("not a directory".utf8)))
        for i in 0..<5 {
            let body = Data("output \(i)".utf8)
            helper.sendPut(
                actionID: Array(repeating: UInt8(40 + i), count: 32), outputID: SHA256Digest.of(body), body: body)
            let answer = try #require(await helper.readResponse())
            #expect((answer["Err"] as? String)?.contains(store.path) == true, "\(answer)")
            #expect(answer["DiskPath"] == nil)
        }
        helper.sendClose()
        #expect(try #require(await helper.readResponse())["Err"] == nil)
        #expect(await helper.exitStatus() == 0)
        let lines = helper.stderr.split(separator: "\n")
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.contains("cannot create a temporary file") == true, "\(lines)")
        #expect(lines.last?.contains("5 puts in all could not be stored in \(store.path)") == true, "\(lines)")
    }

    @Test("close answers and exits 0; end of input without close exits 0 promptly")
    func closeAndEOF() async throws {
        let helper = try start()
        _ = await helper.readLine()
        let id = helper.sendClose()
        #expect(await helper.readLine() == #"{"ID":\#(id)}"#)
        #expect(await helper.exitStatus() == 0)
        #expect(await helper.readLine() == nil, "nothing after the close response")

        let eof = try start()
        _ = await eof.readLine()
        eof.sendGet(actionID: Array(repeating: 7, count: 32))
        eof.closeInput()
        #expect(await eof.readResponse()?["Miss"] as? Bool == true, "requests before EOF are still answered")
        #expect(await eof.exitStatus() == 0)
    }

    @Test(
        "a malformed request line: a clear message on stderr and a non-zero exit",
        arguments: [
            ("not json at all", "expected a JSON object"),
            (#"{"ID":1,"Command":"get""#, "expected ',' or '}'"),
            (#"{"ID":"one","Command":"get"}"#, "\"ID\" must be an integer"),
            (#"{"Command":"get"}"#, "no \"ID\""),
            (#"{"ID":1,"Command":"get","ActionID":"%%%"}"#, "\"ActionID\" is not valid base64"),
            (#"{"ID":1,"Command":"put","BodySize":-5}"#, "BodySize is negative"),
        ])
    func malformed(_ line: String, _ expected: String) async throws {
        let helper = try start()
        _ = await helper.readLine()
        helper.write(line + "\n\n")
        let status = await helper.exitStatus()
        #expect(status != nil, "the helper must not hang")
        #expect(status != 0)
        let stderr = helper.stderr
        #expect(stderr.contains(expected), "stderr: \(stderr)")
        #expect(stderr.contains("line 1"))
        #expect(!stderr.contains("Fatal error"), "no crash trace")
    }

    @Test("a put body that never ends is an error, not a hang")
    func truncatedBody() async throws {
        let helper = try start()
        _ = await helper.readLine()
        let id = helper.makeID()
        helper.write(
            "{\"ID\":\(id),\"Command\":\"put\",\"ActionID\":\"\(Data(repeating: 1, count: 32).base64EncodedString())\",\"OutputID\":\"\(Data(repeating: 1, count: 32).base64EncodedString())\",\"BodySize\":100}\n\n\"QUJD"
        )
        helper.closeInput()
        let status = await helper.exitStatus()
        #expect(status != nil && status != 0)
        #expect(helper.stderr.contains("ended inside a put body"))
    }

    @Test("unknown commands get Err; stdout carries only protocol lines even with -v")
    func unknownCommandAndCleanStdout() async throws {
        let helper = try start(["-v"])
        #expect(await helper.readResponse()?["KnownCommands"] != nil)
        helper.write("{\"ID\":\(helper.makeID()),\"Command\":\"get2\"}\n\n")
        let answer = try #require(await helper.readResponse())
        #expect((answer["Err"] as? String)?.contains("get2") == true)
        helper.sendClose()
        #expect(await helper.readResponse()?["ID"] as? Int == 2)
        #expect(await helper.readLine() == nil)
        #expect(await helper.exitStatus() == 0)
        let stderr = helper.stderr
        #expect(stderr.contains("cacheprog: 0 gets (0 hits, 0 misses), 0 puts"), "summary line: \(stderr)")
    }

    @Test("the body is streamed: a 64 MiB put keeps the helper's peak RSS under 48 MB")
    func streamingPut() async throws {
        let helper = try start()
        _ = await helper.readLine()
        var body = Data(count: 64 << 20)
        body.withUnsafeMutableBytes { raw in
            var x: UInt64 = 0x9E37_79B9_7F4A_7C15
            for i in stride(from: 0, to: raw.count, by: 8) {
                x ^= x << 13
                x ^= x >> 7
                x ^= x << 17
                raw.storeBytes(of: x, toByteOffset: i, as: UInt64.self)
            }
        }
        helper.sendPut(actionID: Array(repeating: 8, count: 32), outputID: SHA256Digest.of(body), body: body)
        let put = try #require(await helper.readResponse())
        #expect(put["Err"] == nil)
        let rss = try #require(helper.peakRSS)
        #expect(rss < 48_000_000, "peak RSS \(rss) bytes")
        #expect(FileManager.default.contents(atPath: try #require(put["DiskPath"] as? String)) == body)
        helper.closeInput()
        #expect(await helper.exitStatus() == 0)
    }
}
