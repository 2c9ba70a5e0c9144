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
    public init(url: String) throws {
        let invalid = { (why: String) in
            CASError(.invalidConfiguration, "remote URL '\(url)': \(why); expected grpc(s)://host:port[/instance]")
        }
        let lower = url.lowercased()
        let rest: Substring
        if lower.hasPrefix("grpcs://") {
            tls = true
            rest = url.dropFirst("grpcs://".count)
        } else if lower.hasPrefix("grpc://") {
            tls = false
            rest = url.dropFirst("grpc://".count)
        } else {
            throw invalid("not a grpc:// or grpcs:// URL")
        }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        if authority.contains("@") {
            throw invalid("credentials in the URL are not supported; use CASBRIDGE_GRPC_HEADERS")
        }
        var path = rest[authorityEnd...]
        if let cut = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<cut] }
        while path.hasPrefix("/") { path = path.dropFirst() }
        while path.hasSuffix("/") { path = path.dropLast() }
        instanceName = String(path)

        var hostPart = authority
        var portPart: Substring? = nil
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address") }
            let after = hostPart[hostPart.index(after: close)...]
            if after.hasPrefix(":") {
                portPart = after.dropFirst()
            } else if !after.isEmpty {
                throw invalid("bad host")
            }
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
        } else if let colon = hostPart.lastIndex(of: ":") {
            portPart = hostPart[hostPart.index(after: colon)...]
            hostPart = hostPart[..<colon]
        }
        guard !hostPart.isEmpty else { throw invalid("no host") }
        host = String(hostPart)
        if let portPart {
            guard let p = Int(portPart), (1...65535).contains(p) else { throw invalid("bad port '\(portPart)'") }
            port = p
        } else {
            port = tls ? 443 : 80
        }
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
