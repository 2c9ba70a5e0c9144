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
    func capabilitiesFirst() throws {
        let helper = try start()
        let line = helper.readLine()
        #expect(line == #"{"ID":0,"KnownCommands":["get","put","close"]}"#)
        helper.closeInput()
        #expect(helper.waitForExit() == 0)
    }

    @Test("put then get: the hit carries OutputID, Size, Time and a DiskPath with the body")
    func putThenGet() throws {
        let helper = try start()
        _ = helper.readLine()
        let body = Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let actionID = Array(repeating: UInt8(1), count: 32)
        let outputID = SHA256Digest.of(body)
        let before = Date()
        let putID = helper.sendPut(actionID: actionID, outputID: outputID, body: body)
        let put = try #require(helper.readResponse())
        #expect(put["ID"] as? Int == Int(putID))
        #expect(put["Err"] == nil)
        let putPath = try #require(put["DiskPath"] as? String)
        #expect(putPath.hasPrefix("/"))

        let getID = helper.sendGet(actionID: actionID)
        let get = try #require(helper.readResponse())
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
        let closed = try #require(helper.readResponse())
        #expect(closed["Err"] == nil)
        #expect(helper.waitForExit() == 0)

        // A second process sees the entry with the original put time.
        let again = try start()
        _ = again.readLine()
        again.sendGet(actionID: actionID)
        let hit = try #require(again.readResponse())
        #expect(hit["Time"] as? String == time, "Time is the original put's")
        again.closeInput()
        #expect(again.waitForExit() == 0)
    }

    @Test("a miss says Miss")
    func miss() throws {
        let helper = try start()
        _ = helper.readLine()
        let id = helper.sendGet(actionID: Array(repeating: 9, count: 32))
        #expect(helper.readLine() == #"{"ID":\#(id),"Miss":true}"#)
        helper.closeInput()
        #expect(helper.waitForExit() == 0)
    }

    @Test("ObjectID (Go 1.21–1.23) is accepted as OutputID; an empty body needs no body line")
    func objectIDAndEmptyBody() throws {
        let helper = try start()
        _ = helper.readLine()
        let body = Data("hello".utf8)
        helper.sendPut(
            actionID: Array(repeating: 2, count: 32), outputID: SHA256Digest.of(body), body: body, idField: "ObjectID")
        #expect(try #require(helper.readResponse())["Err"] == nil)
        helper.sendPut(actionID: Array(repeating: 3, count: 32), outputID: SHA256Digest.of(Data()), body: Data())
        let empty = try #require(helper.readResponse())
        #expect(empty["Err"] == nil)
        helper.sendGet(actionID: Array(repeating: 3, count: 32))
        let hit = try #require(helper.readResponse())
        #expect(hit["Miss"] == nil)
        #expect(FileManager.default.contents(atPath: try #require(hit["DiskPath"] as? String)) == Data())
        helper.closeInput()
        #expect(helper.waitForExit() == 0)
    }

    @Test("bad puts are answered with Err, store nothing, and the stream goes on")
    func badPuts() throws {
        let helper = try start()
        _ = helper.readLine()
        let body = Data("some output".utf8)
        let wrongDigest = SHA256Digest.of(Data("other".utf8))
        let actionA = Array(repeating: UInt8(4), count: 32)
        helper.sendPut(actionID: actionA, outputID: wrongDigest, body: body)
        let mismatch = try #require(helper.readResponse())
        #expect((mismatch["Err"] as? String)?.contains("OutputID") == true)

        let actionB = Array(repeating: UInt8(5), count: 32)
        helper.sendPut(actionID: actionB, outputID: SHA256Digest.of(body), body: body, bodySize: body.count + 3)
        let short = try #require(helper.readResponse())
        #expect((short["Err"] as? String)?.contains("BodySize") == true)

        let actionC = Array(repeating: UInt8(6), count: 32)
        let id = helper.makeID()
        helper.write(
            "{\"ID\":\(id),\"Command\":\"put\",\"ActionID\":\"\(Data(actionC).base64EncodedString())\",\"OutputID\":\"\(Data(SHA256Digest.of(body)).base64EncodedString())\",\"BodySize\":11}\n\n\"!!not base64!!\"\n"
        )
        let invalid = try #require(helper.readResponse())
        #expect(invalid["ID"] as? Int == Int(id))
        #expect((invalid["Err"] as? String)?.contains("base64") == true)

        for action in [actionA, actionB, actionC] {
            helper.sendGet(actionID: action)
            #expect(try #require(helper.readResponse())["Miss"] as? Bool == true)
        }
        // Nothing of the rejected bodies was published.
        let blob = store.sub(
            "v1/blobs/\(SHA256Digest.hex(SHA256Digest.of(body)).prefix(2))/\(SHA256Digest.hex(SHA256Digest.of(body)))")
        #expect(!FileManager.default.fileExists(atPath: blob))
        let temps = (try? FileManager.default.contentsOfDirectory(atPath: store.sub("v1/tmp"))) ?? []
        #expect(temps.isEmpty, "temporary files left behind: \(temps)")
        helper.sendClose()
        _ = helper.readResponse()
        #expect(helper.waitForExit() == 0)
    }

    @Test("a store that cannot keep puts: each is answered with Err, the first logged, the rest summed up once")
    func unstorablePuts() throws {
        let helper = try start()
        _ = helper.readLine()
        // Blob directories cannot be made under a regular file: every put fails to store.
        let blobs = store.sub("v1/blobs")
        try FileManager.default.removeItem(atPath: blobs)
        #expect(FileManager.default.createFile(atPath: blobs, contents: Data("not a directory".utf8)))
        for i in 0..<5 {
            let body = Data("output \(i)".utf8)
            helper.sendPut(
                actionID: Array(repeating: UInt8(40 + i), count: 32), outputID: SHA256Digest.of(body), body: body)
            let answer = try #require(helper.readResponse())
            #expect((answer["Err"] as? String)?.contains(store.path) == true, "\(answer)")
            #expect(answer["DiskPath"] == nil)
        }
        helper.sendClose()
        #expect(try #require(helper.readResponse())["Err"] == nil)
        #expect(helper.waitForExit() == 0)
        let lines = helper.stderr.split(separator: "\n")
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.contains("cannot create a temporary file") == true, "\(lines)")
        #expect(lines.last?.contains("5 puts in all could not be stored in \(store.path)") == true, "\(lines)")
    }

    @Test("close answers and exits 0; end of input without close exits 0 promptly")
    func closeAndEOF() throws {
        let helper = try start()
        _ = helper.readLine()
        let id = helper.sendClose()
        #expect(helper.readLine() == #"{"ID":\#(id)}"#)
        #expect(helper.waitForExit(timeout: 5) == 0)
        #expect(helper.readLine() == nil, "nothing after the close response")

        let eof = try start()
        _ = eof.readLine()
        eof.sendGet(actionID: Array(repeating: 7, count: 32))
        eof.closeInput()
        #expect(eof.readResponse()?["Miss"] as? Bool == true, "requests before EOF are still answered")
        #expect(eof.waitForExit(timeout: 2) == 0)
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
    func malformed(_ line: String, _ expected: String) throws {
        let helper = try start()
        _ = helper.readLine()
        helper.write(line + "\n\n")
        let status = helper.waitForExit(timeout: 5)
        #expect(status != nil, "the helper must not hang")
        #expect(status != 0)
        let stderr = helper.stderr
        #expect(stderr.contains(expected), "stderr: \(stderr)")
        #expect(stderr.contains("line 1"))
        #expect(!stderr.contains("Fatal error"), "no crash trace")
    }

    @Test("a put body that never ends is an error, not a hang")
    func truncatedBody() throws {
        let helper = try start()
        _ = helper.readLine()
        let id = helper.makeID()
        helper.write(
            "{\"ID\":\(id),\"Command\":\"put\",\"ActionID\":\"\(Data(repeating: 1, count: 32).base64EncodedString())\",\"OutputID\":\"\(Data(repeating: 1, count: 32).base64EncodedString())\",\"BodySize\":100}\n\n\"QUJD"
        )
        helper.closeInput()
        let status = helper.waitForExit(timeout: 5)
        #expect(status != nil && status != 0)
        #expect(helper.stderr.contains("ended inside a put body"))
    }

    @Test("unknown commands get Err; stdout carries only protocol lines even with -v")
    func unknownCommandAndCleanStdout() throws {
        let helper = try start(["-v"])
        #expect(helper.readResponse()?["KnownCommands"] != nil)
        helper.write("{\"ID\":\(helper.makeID()),\"Command\":\"get2\"}\n\n")
        let answer = try #require(helper.readResponse())
        #expect((answer["Err"] as? String)?.contains("get2") == true)
        helper.sendClose()
        #expect(helper.readResponse()?["ID"] as? Int == 2)
        #expect(helper.readLine() == nil)
        #expect(helper.waitForExit() == 0)
        let stderr = helper.stderr
        #expect(stderr.contains("cacheprog: 0 gets (0 hits, 0 misses), 0 puts"), "summary line: \(stderr)")
    }

    @Test("the body is streamed: a 64 MiB put keeps the helper's peak RSS under 48 MB")
    func streamingPut() throws {
        let helper = try start()
        _ = helper.readLine()
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
        let put = try #require(helper.readResponse())
        #expect(put["Err"] == nil)
        let rss = try #require(helper.peakRSS)
        #expect(rss < 48_000_000, "peak RSS \(rss) bytes")
        #expect(FileManager.default.contents(atPath: try #require(put["DiskPath"] as? String)) == body)
        helper.closeInput()
        #expect(helper.waitForExit() == 0)
    }

    @Test(
        "every spelling of the helper's flags works: serve, --flag=value, -v",
        arguments: [["serve"], ["--verbose"], ["serve", "-v", "--upload-timeout=3s"], ["--trim-interval", "0", "-v"]])
    func commandLineSpellings(_ extra: [String]) throws {
        let statsPath = store.sub("stats-\(extra.count).json")
        let helper = try HelperProcess(arguments: extra + ["--dir=\(store.path)", "--stats-file", statsPath])
        #expect(helper.readResponse()?["KnownCommands"] != nil)
        helper.sendClose()
        _ = helper.readResponse()
        #expect(helper.waitForExit() == 0)
        #expect(FileManager.default.fileExists(atPath: store.sub("v1/index")), "--dir=value was honoured")
        #expect(FileManager.default.fileExists(atPath: statsPath))
        let verbose = extra.contains("-v") || extra.contains("--verbose")
        #expect(helper.stderr.contains("cacheprog: 0 gets") == verbose, "stderr: \(helper.stderr)")
    }

    @Test(
        "a bad command line is reported by the argument parser with a usage error",
        arguments: [
            (["--bogus"], "Unknown option '--bogus'"),
            (["--dir"], "Missing value for '--dir <dir>'"),
            (["--max-size", "lots"], "'lots' is not a size"),
            (["-v=1"], "does not take any value"),
        ])
    func badCommandLine(_ arguments: [String], _ expected: String) throws {
        let result = try ProcessRunner.run([TestPaths.cacheprog] + arguments + ["--dir", store.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains(expected), "stderr: \(result.stderr)")
        #expect(!result.stdout.contains("KnownCommands"), "the helper did not start serving")
    }

    @Test("CASBRIDGE_DIRECT_WRITES takes on or off; anything else is refused with the variable's name")
    func directWritesVariable() throws {
        for value in ["off", "on"] {
            let helper = try HelperProcess(
                arguments: ["--dir", store.path], environment: ["CASBRIDGE_DIRECT_WRITES": value])
            #expect(helper.readResponse()?["KnownCommands"] != nil)
            helper.sendClose()
            _ = helper.readResponse()
            #expect(helper.waitForExit() == 0)
        }
        let result = try ProcessRunner.run(
            [TestPaths.cacheprog, "--dir", store.path], environment: ["CASBRIDGE_DIRECT_WRITES": "sometimes"])
        #expect(result.status != 0)
        #expect(
            result.stderr.contains("CASBRIDGE_DIRECT_WRITES: 'sometimes' is neither on nor off"), "\(result.stderr)")
        #expect(!result.stdout.contains("KnownCommands"), "the helper did not start serving")
    }

    @Test("--help documents every flag and its environment variable")
    func help() throws {
        let result = try ProcessRunner.run([TestPaths.cacheprog, "serve", "--help"])
        #expect(result.status == 0)
        for name in [
            "CASBRIDGE_DIR", "CASBRIDGE_VERBOSE", "CASBRIDGE_STATS_FILE", "CASBRIDGE_STATS_DIR", "CASBRIDGE_REMOTE",
            "CASBRIDGE_REMOTE_MODE",
            "CASBRIDGE_UPLOAD_TIMEOUT", "CASBRIDGE_MAX_SIZE", "CASBRIDGE_MAX_AGE", "CASBRIDGE_TRIM_INTERVAL",
        ] {
            #expect(result.stdout.contains(name), "\(name) missing from --help")
        }
        let root = try ProcessRunner.run([TestPaths.cacheprog, "--help"])
        #expect(root.stdout.contains("trim") && root.stdout.contains("stats"))
    }

    @Test("--stats-file and the stats subcommand report the run")
    func statsFile() throws {
        let statsPath = store.sub("stats.json")
        let helper = try start(["--stats-file", statsPath])
        _ = helper.readLine()
        let body = Data("x".utf8)
        helper.sendPut(actionID: Array(repeating: 1, count: 32), outputID: SHA256Digest.of(body), body: body)
        _ = helper.readResponse()
        helper.sendGet(actionID: Array(repeating: 1, count: 32))
        _ = helper.readResponse()
        helper.sendGet(actionID: Array(repeating: 2, count: 32))
        _ = helper.readResponse()
        helper.sendClose()
        _ = helper.readResponse()
        #expect(helper.waitForExit() == 0)
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: statsPath))) as? [String: Any])
        #expect(json["gets"] as? Int == 2)
        #expect(json["hits"] as? Int == 1)
        #expect(json["misses"] as? Int == 1)
        #expect(json["puts"] as? Int == 1)
        let cpu = try #require(json["cpuSeconds"] as? Double)
        let elapsed = try #require(json["elapsedSeconds"] as? Double)
        #expect(cpu > 0 && cpu < elapsed * 64)
        let stats = try ProcessRunner.run([TestPaths.cacheprog, "stats", "--dir", store.path, "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])
        #expect(report["entries"] as? Int == 1)
        #expect(report["hits"] as? Int == 1)
    }
}
