import CASBridgeTestSupport
import Foundation
import Testing

/// A local store filled by a real go build, then damaged on disk as a power loss or a failing
/// disk may leave it: blobs bit-flipped or truncated, the index journal cut mid-record and
/// bit-flipped, table records bit-flipped, the table truncated. The next build must succeed
/// with the same binary, the go command must never get damaged bytes, `cacheprog verify`
/// must report the damage and `--repair` remove it.
@Suite("on-disk damage with real go builds", .serialized)
struct DiskDamageTests {
    let work: TemporaryDirectory
    let module: String
    let go: String
    let store: String

    init() throws {
        go = try #require(TestPaths.go, "no go binary: run scripts/install-deps.sh (or set CASBRIDGE_TEST_GO)")
        work = try TemporaryDirectory("disk-damage")
        module = work.sub("module")
        store = work.sub("store")
        try GoModuleFixture.write(to: module)
    }

    /// A build of the fixture's app through the helper: its output, compiles and helper stats.
    struct Build {
        var result: ProcessRunner.Result
        var binary: Data
        var compiles: Int
        var stats: [String: Any]

        func count(_ key: String) -> Int { stats[key] as? Int ?? -1 }
    }

    /// `go build -x -o NAME ./cmd/app` with a fresh GOCACHE, the helper on `store`.
    func build(_ name: String) async throws -> Build {
        var env = GoModuleFixture.baseEnvironment(gocache: work.sub("gocache-\(name)"))
        env["GOCACHEPROG"] = "\(TestPaths.cacheprog) --dir \(store)"
        env["CASBRIDGE_STATS_FILE"] = work.sub("\(name).json")
        let result = try await ProcessRunner.run(
            [go, "build", "-x", "-o", work.sub(name), "./cmd/app"], environment: env, directory: module,
            removing: ["GOFLAGS"])
        try #require(result.status == 0, "go build \(name) failed:\n\(result.output)")
        return Build(
            result: result, binary: try work.contents(name),
            compiles: GoModuleFixture.compileCount(result.stderr), stats: try work.statsJSON("\(name).json"))
    }

    /// `cacheprog verify --json` (plus `extra`): exit status and report.
    func verify(_ extra: [String] = []) async throws -> (status: Int32, report: [String: Any]) {
        let result = try await ProcessRunner.run(
            [TestPaths.cacheprog, "verify", "--dir", store, "--json"] + extra)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let report = try #require(object?["report"] as? [String: Any], "\(result.output)")
        return (result.status, report)
    }

    /// The store's blob files, largest first.
    func blobs() throws -> [(path: String, size: Int)] {
        let root = "\(store)/v1/blobs"
        var found: [(String, Int)] = []
        for shard in try FileManager.default.contentsOfDirectory(atPath: root) {
            for name in try FileManager.default.contentsOfDirectory(atPath: "\(root)/\(shard)") where name.count == 64 {
                let path = "\(root)/\(shard)/\(name)"
                let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
                found.append((path, size))
            }
        }
        return found.sorted { $0.1 > $1.1 }
    }

    /// Changes the file at `path` with `body` (making a read-only blob writable meanwhile).
    func damage(_ path: String, _ body: (FileHandle) throws -> Void) throws {
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? 0o444
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try body(handle)
        try handle.close()
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    /// Flips bit `bit` of the byte at `offset` of the file at `path`.
    func flip(_ path: String, at offset: UInt64, bit: UInt8 = 0x04) throws {
        try damage(path) { h in
            try h.seek(toOffset: offset)
            let byte = try #require(try h.read(upToCount: 1)?.first)
            try h.seek(toOffset: offset)
            try h.write(contentsOf: [byte ^ bit])
        }
    }

    /// Makes the file at `path` look an hour old, as a store does that sat through a power loss.
    func settle(_ path: String) throws {
        try FileManager.default.setAttributes(
            [.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: path)
    }

    /// Folds the journal into the table (a trim removes nothing this young) and returns the table's
    /// record count and where its records start.
    func compact() async throws -> (count: Int, recordsOffset: UInt64) {
        let trim = try await ProcessRunner.run([TestPaths.cacheprog, "trim", "--dir", store, "--max-age", "100d"])
        try #require(trim.status == 0, "\(trim.output)")
        let header = try #require(FileManager.default.contents(atPath: "\(store)/v1/table")).prefix(64)
        let count = header[8..<16].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let bits = header[16..<20].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        return (count, UInt64(64 + 4 << bits))
    }

    @Test("bit-flipped and truncated blobs: refused and counted, never served; the build's binary is the fresh one's")
    func damagedBlobs() async throws {
        let fresh = try await build("fresh")
        #expect(fresh.compiles >= 4)
        // The largest blobs are package archives and the binary: a warm build reads every one of them.
        let victims = Array(try blobs().prefix(8))
        try #require(victims.count == 8)
        for (i, v) in victims.enumerated() {
            if i < 5 {
                try flip(v.path, at: UInt64(v.size / (i + 2)))
            } else {
                try damage(v.path) { h in try h.truncate(atOffset: UInt64(v.size / 2)) }
            }
        }
        let before = try await verify()
        #expect(before.status == 1)
        #expect(before.report["damagedBlobs"] as? Int == 8)
        #expect(before.report["recordsDamagedBlob"] as? Int ?? 0 >= 8)

        let after = try await build("after")
        #expect(after.binary == fresh.binary, "the build after the damage made another binary")
        let corrupt = after.count("corruptBlobs")
        #expect(corrupt == 8, "every damaged blob was refused: \(after.stats)")
        #expect(after.count("misses") >= corrupt, "a refused blob is a miss, never a hit")
        #expect(after.count("hits") + after.count("misses") == after.count("gets"))
        #expect(after.compiles > 0, "what was refused was rebuilt")
        // The refused blobs were put again by the rebuild, intact.
        let clean = try await verify()
        #expect(clean.status == 0, "\(clean.report)")
        #expect(clean.report["damagedBlobs"] as? Int == 0)
        let again = try await build("again")
        #expect(again.compiles == 0)
        #expect(again.count("corruptBlobs") == 0)
        #expect(again.binary == fresh.binary)
    }

    @Test("damaged blobs no build reads are reported by verify and removed by --repair; builds never serve them")
    func repairBeforeBuilding() async throws {
        let fresh = try await build("fresh")
        let all = try blobs()
        // Small blobs too (build IDs, vet and link metadata), every fifth one.
        let victims = stride(from: 0, to: all.count, by: 5).map { all[$0] }
        for (i, v) in victims.enumerated() {
            if v.size > 1, i % 2 == 0 {
                try flip(v.path, at: UInt64(v.size / 2), bit: 0x80)
            } else {
                try damage(v.path) { h in try h.truncate(atOffset: UInt64(v.size / 3)) }
            }
        }
        let found = try await verify()
        #expect(found.status == 1)
        // An empty blob cannot be cut shorter, so only the others count.
        let damaged = victims.filter { $0.size > 0 }.count
        #expect(found.report["damagedBlobs"] as? Int == damaged)
        let repaired = try await verify(["--repair"])
        #expect(repaired.status == 1)
        #expect(repaired.report["blobsRemoved"] as? Int == damaged)
        #expect(try await verify().status == 0)
        let after = try await build("after")
        #expect(after.binary == fresh.binary)
        #expect(after.count("corruptBlobs") == 0, "nothing damaged was left to refuse")
        #expect(try await verify().status == 0)
    }

    @Test("journal cut mid-record and bit-flipped, table records bit-flipped: misses, not wrong hits; repair rewrites")
    func damagedIndexRecords() async throws {
        let fresh = try await build("fresh")
        let table = try await compact()
        try #require(table.count > 20)
        // Journal records: the test build's entries (go test caches more actions than go build).
        var env = GoModuleFixture.baseEnvironment(gocache: work.sub("gocache-test"))
        env["GOCACHEPROG"] = "\(TestPaths.cacheprog) --dir \(store)"
        let test = try await ProcessRunner.run(
            [go, "test", "./..."], environment: env, directory: module, removing: ["GOFLAGS"])
        try #require(test.status == 0, "\(test.output)")
        let journal = "\(store)/v1/index"
        let journalSize = try #require(FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int)
        try #require(journalSize >= 4 * 128, "go test added journal records")

        let tablePath = "\(store)/v1/table"
        for slot in [0, table.count / 2, table.count - 1] {
            try flip(tablePath, at: table.recordsOffset + UInt64(slot * 128 + 50))
        }
        try flip(journal, at: 128 + 20)
        try damage(journal) { h in try h.truncate(atOffset: UInt64(journalSize - 64)) }
        try settle(journal)

        let found = try await verify()
        #expect(found.status == 1)
        #expect(found.report["damagedIndexRecords"] as? Int == 5, "3 table records, 1 flipped, 1 cut: \(found.report)")
        #expect(found.report["damagedTable"] as? Bool == false)
        #expect(found.report["damagedBlobs"] as? Int == 0)

        let after = try await build("after")
        #expect(after.binary == fresh.binary)
        #expect(after.count("corruptBlobs") == 0)
        #expect(after.count("hits") + after.count("misses") == after.count("gets"))

        let repaired = try await verify(["--repair"])
        #expect(repaired.status == 1)
        #expect(repaired.report["indexRewritten"] as? Bool == true)
        let clean = try await verify()
        #expect(clean.status == 0, "\(clean.report)")
        #expect(clean.report["damagedIndexRecords"] as? Int == 0)
        let again = try await build("again")
        #expect(again.compiles == 0, "after the repair every entry hits")
        #expect(again.binary == fresh.binary)
    }

    @Test("a table truncated mid-record is ignored whole: the build misses and succeeds; repair rewrites it")
    func truncatedTable() async throws {
        let fresh = try await build("fresh")
        let table = try await compact()
        let tablePath = "\(store)/v1/table"
        try damage(tablePath) { h in
            try h.truncate(atOffset: table.recordsOffset + UInt64((table.count / 2) * 128 + 77))
        }
        let found = try await verify()
        #expect(found.status == 1)
        #expect(found.report["damagedTable"] as? Bool == true)

        let after = try await build("after")
        #expect(after.binary == fresh.binary)
        #expect(after.compiles > 0, "the table's entries were not used")
        #expect(after.count("corruptBlobs") == 0)
        let repaired = try await verify(["--repair"])
        #expect(repaired.status == 1)
        #expect(repaired.report["indexRewritten"] as? Bool == true)
        #expect(try await verify().status == 0)
        let again = try await build("again")
        #expect(again.compiles == 0)
        #expect(again.binary == fresh.binary)
    }
}
