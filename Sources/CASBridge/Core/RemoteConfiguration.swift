/// How to reach a remote store: its URL (whose scheme the executable maps to a backend) and
/// the settings every backend shares.
public struct RemoteConfiguration: Sendable {
    /// The remote URL: `http(s)://host[:port][/prefix]`, `s3://bucket[/prefix][?…]`,
    /// or `grpc(s)://host:port[/instance]`.
    public var url: String
    /// Extra HTTP headers (`http(s)` backends), such as `Authorization: Bearer …`.
    public var httpHeaders: [(name: String, value: String)] = []
    /// gRPC metadata (`grpc(s)` backends), such as `authorization: Bearer …`.
    public var grpcHeaders: [(name: String, value: String)] = []
    /// Skip TLS certificate verification. For tests only.
    public var insecure = false
    /// How long to wait for a connection.
    public var connectTimeout = Duration.seconds(3)
    /// How long one request may take, transfer included.
    public var requestTimeout = Duration.seconds(60)

    /// Creates a configuration for `url`.
    public init(url: String) {
        self.url = url
    }

    /// The URL's scheme, lowercased (`http`, `https`, `s3`, `grpc`, `grpcs`).
    public var scheme: String {
        guard let colon = url.firstIndex(of: ":") else { return "" }
        return url[..<colon].lowercased()
    }

    /// Parses `Name: value` lines (newline or `;`-free) into header pairs.
    public static func parseHeaders(_ text: String) throws -> [(name: String, value: String)] {
        var out: [(String, String)] = []
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            let trimmed = line.drop(while: { $0 == " " })
            if trimmed.isEmpty { continue }
            guard let colon = trimmed.firstIndex(of: ":"), colon > trimmed.startIndex else {
                throw CASError(.invalidConfiguration, "header line without 'Name: value' form (value not shown)")
            }
            let name = String(trimmed[..<colon])
            let value = String(trimmed[trimmed.index(after: colon)...].drop(while: { $0 == " " }))
            out.append((name, value))
        }
        return out
    }

    /// The URL with any userinfo password replaced by `***`, for messages.
    public var redactedURL: String { RemoteURL.redact(url) }
}
