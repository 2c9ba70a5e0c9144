import CASBridge
import CASBridgeHTTP
import CASBridgeS3
import Glibc

extension FuzzTarget {
    /// An ActionResult as an HTTP or REAPI action cache returns it, with any attachments.
    static func actionResult(_ input: UnsafeRawBufferPointer) {
        let bytes = [UInt8](input)
        if let entry = ActionMapping.entry(fromActionResult: bytes) {
            let again = ActionMapping.entry(fromActionResult: ActionMapping.actionResult(for: entry))
            precondition(again == entry, "a decoded ActionResult does not survive encoding")
            precondition(again?.signatures == entry.signatures, "an entry's signatures do not survive encoding")
            // The warm manifest's attachments: what is read is written back the same way.
            let attached = ActionMapping.attachments(fromActionResult: bytes, entry: entry)
            let rewritten = ActionMapping.actionResult(for: entry, attaching: attached)
            precondition(
                ActionMapping.entry(fromActionResult: rewritten) == entry,
                "an entry with attachments does not survive encoding")
            _ = attached.map(\.isIntact)
        }
        _ = ActionMapping.inlineContents(fromActionResult: bytes)
    }

    /// An S3 error document.
    static func s3Error(_ input: UnsafeRawBufferPointer) {
        _ = S3ErrorResponse(xml: [UInt8](input))
    }

    /// A shared credentials file, a `----` line, then a config file: parsed, then credentials
    /// resolved from them for a profile named on the credentials file's first line.
    static func awsConfig(_ input: UnsafeRawBufferPointer) {
        let (credentials, config) = halves(input)
        _ = INIFile(parsing: String(decoding: credentials, as: UTF8.self))
        _ = INIFile(parsing: String(decoding: config, as: UTF8.self))
        let credentialsPath = "\(scratch)/credentials"
        let configPath = "\(scratch)/config"
        credentials.withUnsafeBytes { _ = close(file(credentialsPath, $0)) }
        config.withUnsafeBytes { _ = close(file(configPath, $0)) }
        let firstLine = credentials.split(separator: 0x0A, maxSplits: 1, omittingEmptySubsequences: false).first ?? []
        let profile = String(decoding: firstLine.drop(while: { $0 == UInt8(ascii: "#") }), as: UTF8.self)
        let environment = AWSEnvironment(
            home: scratch,
            variables: [
                "AWS_SHARED_CREDENTIALS_FILE": credentialsPath, "AWS_CONFIG_FILE": configPath,
                "AWS_PROFILE": profile,
            ])
        _ = try? AWSCredentials.resolve(environment)
        _ = try? S3Location(url: "s3://bucket", environment: environment)
    }

    /// A remote URL, as --remote takes it: the scheme, the one URL parser, then the HTTP, S3 and
    /// gRPC (REAPI endpoint) configurations; and the input as a `CASBRIDGE_REMOTE_READ` list.
    static func remoteURL(_ input: UnsafeRawBufferPointer) {
        let text = String(decoding: input, as: UTF8.self)
        remoteURL(text)
        for url in RemoteConfiguration.parseURLList(text).prefix(8) where url != text { remoteURL(url) }
    }

    private static func remoteURL(_ url: String) {
        _ = RemoteConfiguration(url: url).scheme
        _ = RemoteConfiguration(url: url).redactedURL
        if let parsed = try? RemoteURL(url) {
            _ = parsed.redacted
            _ = parsed.authority
            if let grpc = try? parsed.grpcParts() {
                precondition((1...65535).contains(grpc.port), "a gRPC endpoint with port \(grpc.port)")
                precondition(!grpc.host.isEmpty, "a gRPC endpoint without a host")
            }
        }
        _ = try? HTTPCacheStore.parse(url)
        let environment = AWSEnvironment(home: scratch, variables: ["AWS_REGION": "us-east-1"])
        if let location = try? S3Location(url: url, environment: environment) {
            _ = location.url(path: location.path(forKey: location.key("ac", String(repeating: "0", count: 64))))
        }
    }

    /// A flag or environment value: as a size, a duration, a switch, a remote mode, a header
    /// list and a digest.
    static func flags(_ input: UnsafeRawBufferPointer) {
        let text = String(decoding: input, as: UTF8.self)
        _ = ValueParsing.size(text)
        _ = ValueParsing.duration(text)
        _ = ValueParsing.toggle(text)
        _ = RemoteMode(rawValue: text)
        _ = try? RemoteConfiguration.parseHeaders(text)
        _ = Digest(hex: text)
        // Key lines: trusted public keys (file or CASBRIDGE_TRUSTED_KEYS) and a signing key.
        _ = try? TrustedKeys(parsing: text, source: "fuzz")
        _ = try? EntrySigner(line: text, source: "fuzz")
    }
}
