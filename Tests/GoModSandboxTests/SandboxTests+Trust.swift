import CASBridge
import CASBridgeTestSupport
import GoModSandbox
import Testing

extension SandboxTests {
    @Test("gomod: key and tree records are signed; a forged key record is refused with --trust signed, used with any")
    func signedKeyRecords() async throws {
        let f = try await GoModFixture()
        let remote = EncodingStore(try LocalStore(directory: f.temp.sub("remote")))
        let key = try #require(EntrySigner.generate(keyName: "ci-1"))
        let trusted = try TrustedKeys(parsing: key.publicKeyLine, source: "test")
        func store(signer: EntrySigner?, mode: TrustMode, _ statistics: HelperStatistics? = nil) -> SignedStore {
            SignedStore(
                remote, signer: signer, trusted: mode == .signed ? trusted : TrustedKeys(), mode: mode,
                report: UntrustedEntryReport(statistics: statistics))
        }
        var env = f.goEnvironment
        env["GOMODCACHE"] = nil
        env["GOFLAGS"] = nil
        func ensure(_ machine: String, _ module: String, _ remote: SignedStore) async throws -> EnsureResult {
            let local = try LocalStore(directory: f.temp.sub(machine))
            // Readers do not upload: a refusing reader's own upload would replace the forged record.
            return try await GoModCache(
                local: local, remote: remote, uploads: machine == "writer", showProgress: false, environment: env
            )
            .ensure(moduleDirectory: "\(f.repo)/\(module)")
        }
        let writer = store(signer: key, mode: .any)
        let a = try await ensure("writer", "a", writer)
        let b = try await ensure("writer", "b", writer)
        #expect(a.source == .downloaded && b.source == .downloaded && a.digest != b.digest)
        let records = remote.raw.withLock { $0 }
        for (actionID, bytes) in records {
            let entry = try #require(ActionMapping.entry(fromActionResult: bytes))
            #expect(trusted.trusts(entry, for: actionID), "every record the writer pushed is signed")
        }

        let reader = try await ensure("reader", "a", store(signer: nil, mode: .signed))
        #expect(reader.source == .remote && reader.digest == a.digest)

        // The attacker points a's key at b's tree (a valid tree the remote holds), unsigned.
        let treeA = GoModCache.treeActionID(a.rootDigest)
        let treeB = GoModCache.treeActionID(b.rootDigest)
        let keyA = try #require(
            records.first { id, bytes in
                id != treeA && ActionMapping.entry(fromActionResult: bytes)?.outputID == a.rootDigest
            }?.key)
        let bEntry = try #require(await remote.entry(for: treeB))
        remote.forge(keyA, ActionEntry(outputID: bEntry.outputID, size: bEntry.size, time: bEntry.time))
        let statistics = HelperStatistics()
        let refusing = try await ensure("refusing", "a", store(signer: nil, mode: .signed, statistics))
        #expect(refusing.source == .downloaded && refusing.digest == a.digest, "downloaded again, correctly")
        #expect(statistics.snapshot[.untrustedEntries] == 1)
        let fooled = try await ensure("fooled", "a", store(signer: nil, mode: .any))
        #expect(fooled.source == .remote && fooled.digest == b.digest, "--trust any takes the forged record")
    }
}
