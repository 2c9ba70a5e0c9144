import CASBridgeTestSupport
import Foundation
import Testing

/// `cacheprog verify` on a store written through the helper's protocol, then damaged on disk.
@Suite("cacheprog verify")
struct VerifyTests {
    let store: TemporaryDirectory

    init() throws {
        store = try TemporaryDirectory("verify")
    }

    /// One output put through the protocol.
    struct Output {
        var actionID: [UInt8]
        var body: Data
        var path: String
    }

    /// Puts `count` outputs of different sizes through one helper run and returns them.
    func populate(_ count: Int, first: UInt8 = 1) async throws -> [Output] {
        let helper = try HelperProcess(arguments: ["--dir", store.path])
        _ = await helper.readLine()
        var outputs: [Output] = []
        for n in 0..<count {
            let actionID = Array(repeating: first + UInt8(n), count: 32)
            let body = Data((0..<(1000 + 300 * n)).map { UInt8(truncatingIfNeeded: $0 &* (Int(first) + n + 2)) })
            helper.sendPut(actionID: actionID, outputID: SHA256Digest.of(body), body: body)
            let put = try #require(await helper.readResponse())
            #expect(put["Err"] == nil)
            outputs.append(Output(actionID: actionID, body: body, path: try #require(put["DiskPath"] as? String)))
        }
        helper.sendClose()
        _ = await helper.readResponse()
        #expect(await helper.exitStatus() == 0)
        return outputs
    }

    /// Runs `cacheprog verify --json` (plus `extra`) and returns its status and parsed report.
    func verify(_ extra: [String] = []) async throws -> (status: Int32, report: [String: Any], clean: Bool) {
        let result = try await ProcessRunner.run(
            [TestPaths.cacheprog, "verify", "--dir", store.path, "--json"] + extra)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let json = try #require(object, "\(result.output)")
        let report = try #require(json["report"] as? [String: Any], "\(result.output)")
        return (result.status, report, try #require(json["clean"] as? Bool))
    }

    /// The outcome of a get: the body served, or nil for a miss.
    func get(_ actionID: [UInt8]) async throws -> Data? {
        let helper = try HelperProcess(arguments: ["--dir", store.path])
        _ = await helper.readLine()
        helper.sendGet(actionID: actionID)
        let response = try #require(await helper.readResponse())
        helper.closeInput()
        #expect(await helper.exitStatus() == 0)
        if response["Miss"] as? Bool == true { return nil }
        return FileManager.default.contents(atPath: try #require(response["DiskPath"] as? String))
    }

    /// Makes a read-only blob writable, changes it with `body`, and puts its mode back.
    func damage(_ path: String, _ body: (FileHandle) throws -> Void) throws {
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try body(handle)
        try handle.close()
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: path)
    }

    @Test("a clean store: exit 0, every blob hashed, every record checked, text and JSON")
    func clean() async throws {
        let outputs = try await populate(3)
        let (status, report, clean) = try await verify()
        #expect(status == 0)
        #expect(clean)
        #expect(report["blobsChecked"] as? Int == 3)
        #expect(report["bytesHashed"] as? Int == outputs.reduce(0) { $0 + $1.body.count })
        #expect(report["recordsChecked"] as? Int == 3)
        #expect(report["damagedBlobs"] as? Int == 0)
        #expect(report["staleTempFiles"] as? Int == 0)
        let text = try await ProcessRunner.run([TestPaths.cacheprog, "verify", "--dir", store.path])
        #expect(text.status == 0, "\(text.output)")
        #expect(text.stdout.contains("3 hashed"))
        #expect(text.stdout.contains("result:   clean"))
    }

    @Test("flipped, truncated and deleted blobs and a stale temp file are found; --repair removes them; gets miss")
    func damageAndRepair() async throws {
        let outputs = try await populate(4)
        // Fold the first records into the table so the repair rewrites table and journal records.
        let trim = try await ProcessRunner.run([TestPaths.cacheprog, "trim", "--dir", store.path, "--max-age", "100d"])
        #expect(trim.status == 0, "\(trim.output)")
        let later = try await populate(1, first: 100)
        try damage(outputs[0].path) { h in
            try h.seek(toOffset: 500)
            let byte = try #require(try h.read(upToCount: 1)).first!
            try h.seek(toOffset: 500)
            try h.write(contentsOf: [byte ^ 0x10])
        }
        try damage(outputs[1].path) { h in try h.truncate(atOffset: 700) }
        try FileManager.default.removeItem(atPath: outputs[2].path)
        let directory = URL(fileURLWithPath: later[0].path).deletingLastPathComponent().path
        let stale = "\(directory)/.tmp-stale"
        let young = "\(directory)/.tmp-young"
        #expect(FileManager.default.createFile(atPath: stale, contents: Data("partial".utf8)))
        #expect(FileManager.default.createFile(atPath: young, contents: Data("in flight".utf8)))
        try FileManager.default.setAttributes(
            [.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: stale)

        let found = try await verify()
        #expect(found.status == 1)
        #expect(!found.clean)
        #expect(found.report["blobsChecked"] as? Int == 4)
        #expect(found.report["damagedBlobs"] as? Int == 2)
        #expect(found.report["recordsChecked"] as? Int == 5)
        #expect(found.report["recordsDamagedBlob"] as? Int == 2)
        #expect(found.report["recordsMissingBlob"] as? Int == 1)
        #expect(found.report["recordsWrongSize"] as? Int == 0)
        #expect(found.report["staleTempFiles"] as? Int == 1)
        #expect((found.report["damagedPaths"] as? [String]).map(Set.init) == [outputs[0].path, outputs[1].path])
        #expect(FileManager.default.fileExists(atPath: outputs[0].path), "verify alone removes nothing")

        let repaired = try await verify(["--repair"])
        #expect(repaired.status == 1, "damage was found, even though it is repaired")
        #expect(repaired.report["blobsRemoved"] as? Int == 2)
        #expect(repaired.report["tempFilesRemoved"] as? Int == 1)
        #expect(repaired.report["recordsDropped"] as? Int == 3)
        #expect(!FileManager.default.fileExists(atPath: outputs[0].path))
        #expect(!FileManager.default.fileExists(atPath: outputs[1].path))
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: young), "a young temp file may belong to a running helper")

        let again = try await verify()
        #expect(again.status == 0)
        #expect(again.clean)
        #expect(again.report["recordsChecked"] as? Int == 2)
        #expect(again.report["blobsChecked"] as? Int == 2)
        for damaged in outputs[0...2] { #expect(try await get(damaged.actionID) == nil) }
        #expect(try await get(outputs[3].actionID) == outputs[3].body)
        #expect(try await get(later[0].actionID) == later[0].body)
    }

    @Test("a damaged blob is never served even before a repair: the get is a miss")
    func damagedBlobIsAMiss() async throws {
        let outputs = try await populate(1)
        try damage(outputs[0].path) { h in
            try h.seek(toOffset: 10)
            try h.write(contentsOf: [0xFF, 0x00, 0xFF])
        }
        #expect(try await get(outputs[0].actionID) == nil)
    }

    @Test("a missing store is an error (exit 2) without usage text, and is not created")
    func missingStore() async throws {
        let missing = store.sub("nothing-here")
        let result = try await ProcessRunner.run([TestPaths.cacheprog, "verify", "--dir", missing])
        #expect(result.status == 2, "\(result.output)")
        #expect(result.stderr.contains("no local store at \(missing)"), "\(result.output)")
        #expect(!result.stderr.contains("Usage"), "\(result.output)")
        #expect(result.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: missing))
    }
}
