import CASBridge

/// Where a `grpc(s)://host:port[/instance]` URL points: the host, the port, whether to
/// use TLS, and the REAPI instance name (the URL's path without its leading slash).
public struct REAPIEndpoint: Hashable, Sendable {
    /// The host name or IP address (IPv6 without brackets).
    public var host: String
    /// The TCP port: from the URL, else 443 for `grpcs` and 80 for `grpc`.
    public var port: Int
    /// Whether the connection uses TLS (`grpcs://`).
    public var tls: Bool
    /// The REAPI `instance_name`; empty for the default instance.
    public var instanceName: String

    /// Parses `url`; throws `CASError(.invalidConfiguration)` naming the URL if it is not
    /// a `grpc://` or `grpcs://` URL with a host.
    public init(url text: String) throws {
        let parts = try RemoteURL(text).grpcParts()
        host = parts.host
        port = parts.port
        tls = parts.tls
        instanceName = parts.instanceName
    }

    /// `grpc(s)://host:port/instance`, for messages.
    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        let base = "\(tls ? "grpcs" : "grpc")://\(h):\(port)"
        return instanceName.isEmpty ? base : "\(base)/\(instanceName)"
    }

    /// `instance/` followed by `rest`, or `rest` for the default instance: the form of
    /// ByteStream resource names.
    func resource(_ rest: String) -> String {
        instanceName.isEmpty ? rest : "\(instanceName)/\(rest)"
    }
}
