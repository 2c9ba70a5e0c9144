import CASBridge
import CASBridgeHTTP
import CASBridgeS3
import CASBridgeTestSupport
import Foundation
import Testing

/// Signed entries through the binary: the poisoned-entry attack against nginx (HTTP) and
/// SeaweedFS (S3), a real go build signed and read with `--trust signed`, and the key commands.
@Suite("Signed entries end to end", .serialized)
struct TrustTests {
    let work: TemporaryDirectory

    init() throws {
        work = try TemporaryDirectory("trust-e2e")
    }

    @Test("nginx: a rewritten action entry is never served with --trust signed; --trust any serves it")
    func poisonedHTTP() async throws {
        let nginx = try await NginxServer()
        let attacker = try HTTPCacheStore(configuration: RemoteConfiguration(url: nginx.url))
        try await PoisonedEntryScenario(url: nginx.url, attacker: attacker, backend: "http").run()
    }

    @Test("SeaweedFS: a rewritten action entry is never served with --trust signed; --trust any serves it")
    func poisonedS3() async throws {
        let server = try await SeaweedFSServer()
        defer { server.stop() }
        let url = "s3://casbridge/trust?endpoint=\(server.endpoint)"
        let location = try S3Location(url: url, environment: AWSEnvironment(home: "/nonexistent", variables: [:]))
        let attacker = S3Store(
            location: location,
            credentials: AWSCredentials(accessKeyID: server.accessKey, secretAccessKey: server.secretKey),
            client: HTTPClient(options: HTTPClient.Options()))
        // The gateway may still be starting.
        try await server.server.retryWhileStarting("create the bucket") { try await attacker.createBucket() }
        let environment = [
            "AWS_ACCESS_KEY_ID": server.accessKey, "AWS_SECRET_ACCESS_KEY": server.secretKey,
            "AWS_CONFIG_FILE": work.sub("no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE": work.sub("no-aws-credentials"),
        ]
        try await PoisonedEntryScenario(url: url, attacker: attacker, backend: "s3", environment: environment).run()
    }

    @Test("keygen writes NAME.private (0600) and NAME.public as Nix does, refuses to overwrite, and checks the name")
    func keygen() async throws {
        let key = try await PoisonedEntryScenario.keygen("ci.example.com-1", in: work.sub("keys"))
        let attributes = try FileManager.default.attributesOfItem(atPath: key.privatePath)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(key.publicLine.hasPrefix("ci.example.com-1:"))
        #expect(Base64.decode(Array(key.publicLine.dropFirst("ci.example.com-1:".count).utf8))?.count == 32)
        #expect(Base64.decode(Array(key.secret.utf8))?.count == 64, "Nix's 64-byte secret key")
        let before = try String(contentsOfFile: key.privatePath, encoding: .utf8)
        let again = try await ProcessRunner.run(
            [TestPaths.cacheprog, "keygen", "ci.example.com-1", "--output-dir", work.sub("keys")])
        #expect(again.status != 0 && again.stderr.contains("refusing to overwrite"), "\(again.output)")
        #expect(try String(contentsOfFile: key.privatePath, encoding: .utf8) == before)
        #expect(!again.stdout.contains(key.secret) && !again.stderr.contains(key.secret))
        let bad = try await ProcessRunner.run(
            [TestPaths.cacheprog, "keygen", "../escape", "--output-dir", work.sub("keys")])
        #expect(bad.status != 0 && bad.stderr.contains("a key name is"), "\(bad.output)")
    }

    @Test(
        "trust settings are checked at start: --trust signed without a key, an unknown mode, an unreadable key file",
        arguments: [
            (["--trust", "signed"], [String: String](), "no key to trust"),
            (["--trust", "maybe"], [:], "'maybe' is not signed or any"),
            ([], ["CASBRIDGE_TRUST": "signed"], "no key to trust"),
            (["--signing-key-file", "/nonexistent/ci.private"], [:], "/nonexistent/ci.private"),
            (["--trusted-keys-file", "/nonexistent/keys"], [:], "/nonexistent/keys"),
            ([], ["CASBRIDGE_TRUSTED_KEYS": "ci-1:AAAA ci-2"], "CASBRIDGE_TRUSTED_KEYS line 1"),
        ])
    func badSettings(_ arguments: [String], _ environment: [String: String], _ message: String) async throws {
        let result = try await ProcessRunner.run(
            [TestPaths.cacheprog, "--dir", work.sub("store")] + arguments, environment: environment,
            removing: ["CASBRIDGE_TRUST", "CASBRIDGE_TRUSTED_KEYS"])
        #expect(result.status != 0, "\(result.output)")
        #expect(result.stderr.contains(message), "\(result.output)")
        #expect(!result.stdout.contains("KnownCommands"), "the helper did not start serving")
    }
}
