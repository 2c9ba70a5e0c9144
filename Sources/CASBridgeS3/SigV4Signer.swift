public import CASBridge

/// AWS Signature Version 4 for requests signed in the `Authorization` header.
///
/// The signer adds `x-amz-date`, `x-amz-security-token` (with temporary credentials) and
/// `authorization`. Every header passed in is signed, so the caller must send exactly
/// those headers (with `host` among them) and may let the transport add only unsigned ones.
public struct SigV4Signer: Sendable {
    /// The credentials that sign.
    public var credentials: AWSCredentials
    /// The region of the credential scope, such as `us-east-1`.
    public var region: String
    /// The service of the credential scope: `s3` for object stores.
    public var service: String

    /// The SHA-256 of zero bytes: the payload hash of bodiless requests.
    public static let emptyPayloadHash = Digest.empty.hex

    /// Creates a signer.
    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// A signed request's parts, kept for tests and debugging (never logged: no secrets in it,
    /// but the signature authorizes the request).
    public struct Signature: Sendable {
        /// The canonical request.
        public var canonicalRequest: String
        /// The string to sign.
        public var stringToSign: String
        /// The hex signature.
        public var signature: String
        /// The headers to send: the caller's plus `x-amz-date`, the token and `authorization`.
        public var headers: [(name: String, value: String)]
        /// The value of the `authorization` header.
        public var authorization: String
    }

    /// Signs a request. `path` is the canonical URI, already percent-encoded (S3 encodes each
    /// key once); `query` holds raw names and values, encoded here.
    public func sign(
        method: String, path: String, query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)], payloadHash: String, date: Timestamp
    ) -> Signature {
        let amzDate = Self.amzDate(date)
        let day = String(amzDate.prefix(8))
        var all = headers
        all.append(("x-amz-date", amzDate))
        if let token = credentials.sessionToken { all.append(("x-amz-security-token", token)) }

        let (canonical, signedHeaders) = Self.canonicalRequest(
            method: method, path: path, query: query, headers: all, payloadHash: payloadHash)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(SHA256.hash(Array(canonical.utf8)).hex)"
        var key = HMACSHA256.mac(key: Array("AWS4\(credentials.secretAccessKey)".utf8), day)
        key = HMACSHA256.mac(key: key, region)
        key = HMACSHA256.mac(key: key, service)
        key = HMACSHA256.mac(key: key, "aws4_request")
        let signature = Self.hex(HMACSHA256.mac(key: key, stringToSign))
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        all.append(("authorization", authorization))
        return Signature(
            canonicalRequest: canonical, stringToSign: stringToSign, signature: signature, headers: all,
            authorization: authorization)
    }

    /// The canonical request and the signed-headers list.
    public static func canonicalRequest(
        method: String, path: String, query: [(name: String, value: String)],
        headers: [(name: String, value: String)], payloadHash: String
    ) -> (String, signedHeaders: String) {
        var pairs: [(String, String)] = query.map { (uriEncode($0.name), uriEncode($0.value)) }
        pairs.sort { (a: (String, String), b: (String, String)) -> Bool in
            a.0 == b.0 ? a.1 < b.1 : a.0 < b.0
        }
        let canonicalQuery = pairs.map { (p: (String, String)) -> String in p.0 + "=" + p.1 }.joined(separator: "&")
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            merged[name.lowercased(), default: []].append(canonicalHeaderValue(value))
        }
        let names = merged.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        let signed = names.joined(separator: ";")
        let request = [
            method, path.isEmpty ? "/" : path, canonicalQuery, canonicalHeaders, signed, payloadHash,
        ].joined(separator: "\n")
        return (request, signed)
    }

    /// A header value trimmed, with runs of spaces collapsed to one.
    static func canonicalHeaderValue(_ value: String) -> String {
        var out = ""
        var pendingSpace = false
        for c in value {
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(c)
            }
        }
        return out
    }

    /// Percent-encodes everything but the unreserved characters `A-Z a-z 0-9 - . _ ~`
    /// (and `/` unless `encodeSlash`), as SigV4 and S3 object keys require.
    public static func uriEncode(_ text: String, encodeSlash: Bool = true) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        let digits = Array("0123456789ABCDEF".utf8)
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(b)
            case UInt8(ascii: "/") where !encodeSlash:
                out.append(b)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(digits[Int(b >> 4)])
                out.append(digits[Int(b & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `YYYYMMDDTHHMMSSZ` for the whole second of `date`.
    public static func amzDate(_ date: Timestamp) -> String {
        let whole = Timestamp(nanoseconds: date.seconds * 1_000_000_000).rfc3339
        return String(whole.filter { $0 != "-" && $0 != ":" })
    }

    /// Lowercase hex of `bytes`.
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
