import CASBridge
import CASBridgeTestSupport
import Foundation
import Testing

/// Signatures of action entries (Ed25519 through libcrypto), the key lines they come from,
/// and how they travel inside an ActionResult.
@Suite("Entry signing")
struct EntrySigningTests {
    let actionID = SHA256.hash(Array("an action".utf8))
    let entry = ActionEntry(
        outputID: SHA256.hash(Array("an output".utf8)), size: 9, time: Timestamp(nanoseconds: 1_765_000_000_123_456_789)
    )

    static func signer(_ name: String) throws -> EntrySigner {
        try #require(EntrySigner.generate(keyName: name))
    }

    static func trusting(_ signers: EntrySigner...) throws -> TrustedKeys {
        try TrustedKeys(parsing: signers.map(\.publicKeyLine).joined(separator: "\n"), source: "test")
    }

    func signed(_ entry: ActionEntry, by signer: EntrySigner, for actionID: Digest? = nil) throws -> ActionEntry {
        var signed = entry
        signed.signatures = [try signer.sign(entry, for: actionID ?? self.actionID)]
        return signed
    }

    @Test("a signature verifies with its key over exactly the tuple signed: ActionID, OutputID, size, time, key name")
    func signAndVerify() throws {
        let key = try Self.signer("ci-1")
        let trusted = try Self.trusting(key)
        let good = try signed(entry, by: key)
        #expect(good.signatures[0].bytes.count == 64)
        #expect(trusted.trusts(good, for: actionID))
        #expect(!trusted.trusts(entry, for: actionID), "an unsigned entry is not trusted")

        var tampered = good
        tampered.signatures[0].bytes[10] ^= 1
        #expect(!trusted.trusts(tampered, for: actionID), "a flipped bit of the signature")
        #expect(!trusted.trusts(good, for: SHA256.hash(Array("another action".utf8))), "copied to another ActionID")
        var other = good
        other.outputID = SHA256.hash(Array("another output".utf8))
        #expect(!trusted.trusts(other, for: actionID), "over a different OutputID")
        other = good
        other.size += 1
        #expect(!trusted.trusts(other, for: actionID), "over a different size")
        other = good
        other.time = Timestamp(nanoseconds: good.time.nanoseconds + 1)
        #expect(!trusted.trusts(other, for: actionID), "over a put time one nanosecond off")
        other = good
        other.signatures[0].keyName = "ci-2"
        #expect(!trusted.trusts(other, for: actionID), "under another key name")

        let stranger = try Self.signer("ci-1")
        #expect(!trusted.trusts(try signed(entry, by: stranger), for: actionID), "another key of the same name")
        #expect(try Self.trusting(stranger).trusts(try signed(entry, by: stranger), for: actionID))
    }

    @Test("rotation: several trusted keys, by name and of one name; an entry is trusted when any signature verifies")
    func rotation() throws {
        let old = try Self.signer("ci-1")
        let new = try Self.signer("ci-2")
        let sameName = try Self.signer("ci-2")
        let text =
            "# the old key, then the new ones\n\(old.publicKeyLine)\n\n  \(new.publicKeyLine) \(sameName.publicKeyLine)\n"
        let trusted = try TrustedKeys(parsing: text, source: "test")
        #expect(trusted.names == ["ci-1", "ci-2"])
        for key in [old, new, sameName] {
            #expect(trusted.trusts(try signed(entry, by: key), for: actionID), "\(key.keyName)")
        }
        var both = try signed(entry, by: try Self.signer("retired"))
        both.signatures.append(try new.sign(entry, for: actionID))
        #expect(trusted.trusts(both, for: actionID), "one untrusted signature does not spoil a trusted one")
    }

    @Test("bad key lines are errors naming the file and line, and never quote a secret")
    func keyParsing() throws {
        let dir = try TemporaryDirectory("keys")
        let good = try Self.signer("ci-1").publicKeyLine
        let cases: [(String, String)] = [
            ("\(good)\n# comment\nno-colon-here\n", "line 3: not NAME:base64"),
            ("\(good)\nbad name:AAAA\n", "line 2: not NAME:base64"),
            ("ci-1:not*base64\n", "line 1: the key is not valid base64"),
            ("ci 1:AAAA\n", "line 1: not NAME:base64"),
            (":AAAA\n", "line 1: the key name"),
            (
                "ci-1:\(Base64.encode([UInt8](repeating: 1, count: 31)))\n",
                "line 1: key ci-1 is not an Ed25519 public key"
            ),
        ]
        for (i, (text, expected)) in cases.enumerated() {
            let path = dir.sub("trusted-\(i)")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let error = try #require(throws: CASError.self) { try TrustedKeys(file: path) }
            #expect("\(error)".contains("file \(path) \(expected)"), "\(error)")
        }
        let missing = try #require(throws: CASError.self) { try TrustedKeys(file: dir.sub("absent")) }
        #expect("\(missing)".contains("trusted keys file \(dir.sub("absent"))"), "\(missing)")

        // A signing key file: a secret, so its errors say what is wrong and where, never what it holds.
        let secret = Base64.encode([UInt8](repeating: 7, count: 48))
        let path = dir.sub("bad.private")
        try "ci-1:\(secret)\n".write(toFile: path, atomically: true, encoding: .utf8)
        let error = try #require(throws: CASError.self) { try EntrySigner(file: path) }
        #expect("\(error)".contains(path) && "\(error)".contains("48 bytes"), "\(error)")
        #expect(!"\(error)".contains(secret))
        try "ci-1:\(secret)\nci-2:\(secret)\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: CASError.self) { try EntrySigner(file: path) }
        let envError = try #require(throws: CASError.self) {
            try EntrySigner(line: "ci-1 \(secret)", source: "CASBRIDGE_SIGNING_KEY")
        }
        #expect("\(envError)".contains("CASBRIDGE_SIGNING_KEY") && !"\(envError)".contains(secret))
    }

    @Test(
        "a secret key reads as Nix writes it (seed and public key) or as its seed alone; a wrong public half is refused"
    )
    func secretKeyForms() throws {
        let key = try Self.signer("ci-1")
        let line = try #require(key.secretKeyLine)
        let bytes = try #require(Base64.decode(Array(line.dropFirst(5).utf8)))
        #expect(bytes.count == 64)
        #expect(try EntrySigner(line: line, source: "test").publicKeyLine == key.publicKeyLine)
        let seedOnly = "ci-1:" + Base64.encode(bytes.prefix(32))
        let fromSeed = try EntrySigner(line: seedOnly, source: "test")
        #expect(fromSeed.publicKeyLine == key.publicKeyLine)
        #expect(try Self.trusting(key).trusts(try signed(entry, by: fromSeed), for: actionID))
        var wrong = bytes
        wrong[40] ^= 1
        let error = try #require(throws: CASError.self) {
            try EntrySigner(line: "ci-1:" + Base64.encode(wrong), source: "test")
        }
        #expect("\(error)".contains("not the public key of its seed"))
        #expect(!"\(key)".contains(Base64.encode(bytes.prefix(32))) && !"\(key)".contains(line))
    }

    @Test("signatures travel in auxiliary_metadata next to attachments; equality and older readers ignore them")
    func encoding() throws {
        let key = try Self.signer("ci-1")
        let good = try signed(entry, by: key)
        let plain = ActionMapping.actionResult(for: good)
        let read = try #require(ActionMapping.entry(fromActionResult: plain))
        #expect(read == entry && read.signatures == good.signatures)
        #expect(try Self.trusting(key).trusts(read, for: actionID))
        #expect(ActionMapping.entry(fromActionResult: ActionMapping.actionResult(for: entry))?.signatures == [])

        let own = Array("an output".utf8)
        let head = Array("an attachment".utf8)
        let blobs = [
            AttachedBlob(digest: entry.outputID, bytes: own), AttachedBlob(digest: SHA256.hash(head), bytes: head),
        ]
        let withBlobs = ActionMapping.actionResult(for: good, attaching: blobs)
        let again = try #require(ActionMapping.entry(fromActionResult: withBlobs))
        #expect(again.signatures == good.signatures)
        #expect(
            ActionMapping.attachments(fromActionResult: withBlobs, entry: again) == blobs,
            "a signature is no attachment")
        let inlined = ActionMapping.actionResult(for: good, inlining: own)
        #expect(ActionMapping.entry(fromActionResult: inlined)?.signatures == good.signatures)
    }
}
