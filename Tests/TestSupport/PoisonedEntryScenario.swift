public import CASBridge
public import Foundation
import Testing

/// The attack signed entries stop, against a real remote: a signing writer (cacheprog with
/// `--signing-key-file`) stores two outputs; an attacker who can write the action cache points
/// the first ActionID at the second output, a valid blob the remote holds (unsigned, signed by a
/// key nobody trusts, or with the second entry's own signature copied); a `--trust signed` reader
/// with an empty local store misses it (counted as untrusted) and still hits the honest entry,
/// while a `--trust any` reader serves the poison. No run's stderr, stats or metrics holds the
/// private key. Each backend's suite runs it with its own server and store.
public struct PoisonedEntryScenario {
    /// The remote's URL as cacheprog takes it.
    public var url: String
    /// The attacker's view of the same remote: a plain store, which signs nothing.
    public var attacker: any CacheStore
    /// Variables every helper gets (credentials, ...).
    public var environment: [String: String]
    /// Flags every helper gets (`--insecure`, ...).
    public var arguments: [String]
    /// The `backend` label of the remote's metrics.
    public var backend: String
    let work: TemporaryDirectory

    public init(
        url: String, attacker: any CacheStore, backend: String, environment: [String: String] = [:],
        arguments: [String] = []
    ) throws {
        self.url = url
        self.attacker = attacker
        self.backend = backend
        self.environment = environment
        self.arguments = arguments
        work = try TemporaryDirectory("poisoned-\(backend)")
    }

    /// `cacheprog keygen NAME` in a directory of its own: the private key file and the public key line.
    public static func keygen(_ name: String, in directory: String) async throws -> (
        privatePath: String, publicLine: String, secret: String
    ) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let result = try await ProcessRunner.run([TestPaths.cacheprog, "keygen", name, "--output-dir", directory])
        try #require(result.status == 0, "\(result.output)")
        let privatePath = "\(directory)/\(name).private"
        let secretLine = try String(contentsOfFile: privatePath, encoding: .utf8)
        let publicLine = try String(contentsOfFile: "\(directory)/\(name).public", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let secret = String(secretLine.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":")[1])
        return (privatePath, publicLine, secret)
    }

    /// One helper run: `gets` answered (OutputID in base64, or nil for a miss) after `puts`;
    /// its stderr, stats and metrics texts.
    func helper(
        _ name: String, extra: [String], environment extraEnvironment: [String: String] = [:],
        puts: [(action: [UInt8], body: Data)] = [], gets: [[UInt8]] = []
    ) async throws -> (answers: [String?], stderr: String, stats: [String: Any], texts: [String]) {
        // Readers neither write nor read a warm manifest: it would change what the next reader meets.
        let extra = extra + (name == "writer" ? [] : ["--remote-mode", "readonly", "--manifest", "off"])
        let statsPath = work.sub("\(name).stats.json")
        let metricsPath = work.sub("\(name).prom")
        let helper = try HelperProcess(
            arguments: [
                "--dir", work.sub("\(name)-store"), "--remote", url, "--stats-file", statsPath,
                "--metrics-file", metricsPath,
            ] + arguments + extra,
            environment: environment.merging(extraEnvironment) { $1 })
        #expect(await helper.readResponse()?["KnownCommands"] != nil)
        for put in puts {
            helper.sendPut(actionID: put.action, outputID: SHA256Digest.of(put.body), body: put.body)
            #expect(try #require(await helper.readResponse())["Err"] == nil)
        }
        var answers: [String?] = []
        for action in gets {
            helper.sendGet(actionID: action)
            let response = try #require(await helper.readResponse())
            answers.append(response["Miss"] as? Bool == true ? nil : response["OutputID"] as? String)
        }
        helper.sendClose()
        _ = await helper.readResponse()
        #expect(await helper.exitStatus() == 0)
        let stderr = helper.stderr
        let texts = [
            stderr, (try? String(contentsOfFile: statsPath, encoding: .utf8)) ?? "",
            (try? String(contentsOfFile: metricsPath, encoding: .utf8)) ?? "",
        ]
        return (answers, stderr, try work.statsJSON("\(name).stats.json"), texts)
    }

    /// Runs the scenario.
    public func run() async throws {
        let owner = try await Self.keygen("ci-1", in: work.sub("owner"))
        let stranger = try await Self.keygen("ci-1", in: work.sub("stranger"))
        // Fresh actions and outputs: a shared server may hold earlier runs' entries.
        let run = UUID().uuidString
        let honest = SHA256Digest.of(Data("action A \(run)".utf8))
        let other = SHA256Digest.of(Data("action B \(run)".utf8))
        let honestBody = Data("the honest output of action A \(run)".utf8)
        let otherBody = Data("a valid output of another action, B \(run)".utf8)
        let ids = [honestBody, otherBody].map { Data(SHA256Digest.of($0)).base64EncodedString() }
        // No warm manifest: it would answer the gets without the action cache the attacker rewrites.
        let writer = try await helper(
            "writer", extra: ["--signing-key-file", owner.privatePath, "--manifest", "off"],
            puts: [(honest, honestBody), (other, otherBody)])
        var texts = writer.texts

        let victim = try #require(Digest(bytes: honest))
        let stolen = try #require(await attacker.entry(for: Digest(bytes: other)!), "the writer's entry of B")
        #expect(stolen.signatures.map(\.keyName) == ["ci-1"], "the writer signed")
        var unsigned = stolen
        unsigned.signatures = []
        let strangerKey = try EntrySigner(file: stranger.privatePath)
        var strangers = unsigned
        strangers.signatures = [try strangerKey.sign(unsigned, for: victim)]
        for (n, poison) in [unsigned, strangers, stolen].enumerated() {
            try await attacker.record(poison, for: victim)
            let reader = try await helper(
                "reader-\(n)", extra: ["--trust", "signed"], environment: ["CASBRIDGE_TRUSTED_KEYS": owner.publicLine],
                gets: [honest, other])
            #expect(reader.answers == [nil, ids[1]], "poison \(n): \(reader.stderr)")
            let remote = reader.stats["remote"] as? [String: Any]
            #expect(remote?["untrustedEntries"] as? Int == 1, "poison \(n): \(reader.stats)")
            #expect(reader.texts[2].contains("cacheprog_remote_untrusted_entries_total{backend=\"\(backend)\"} 1"))
            #expect(reader.stderr.components(separatedBy: "is not trusted").count == 2, "said once: \(reader.stderr)")
            texts += reader.texts

            let fooled = try await helper("fooled-\(n)", extra: ["--trust", "any"], gets: [honest])
            #expect(fooled.answers == [ids[1]], "--trust any serves the poison \(n)")
            texts += fooled.texts
        }
        for text in texts {
            #expect(!text.contains(owner.secret) && !text.contains(stranger.secret), "a private key leaked:\n\(text)")
        }
    }
}
