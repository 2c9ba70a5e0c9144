import CASBridge

extension HTTPCacheStore {
    package struct ParsedURL {
        var scheme: String
        var base: String
        var credentials: String?
        var zstd: ZstdMode
    }

    /// Splits `http(s)://[user[:password]@]host[:port][/prefix][?zstd=auto|on|off]`.
    package static func parse(_ url: String, redacted: String) throws -> ParsedURL {
        guard let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://") else {
            throw CASError(.invalidConfiguration, "remote URL '\(redacted)' is not http(s)://host[:port][/prefix]")
        }
        let scheme = url[..<colon].lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw CASError(.invalidConfiguration, "remote URL '\(redacted)' is not http:// or https://")
        }
        var rest = url[url.index(colon, offsetBy: 3)...]
        var zstd = ZstdMode.auto
        if let q = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: q)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, parts[0] == "zstd", let mode = ZstdMode(rawValue: parts[1]) else {
                    throw CASError(
                        .invalidConfiguration,
                        "remote URL '\(redacted)': unknown query parameter; http(s) remotes take only zstd=auto|on|off")
                }
                zstd = mode
            }
            rest = rest[..<q]
        }
        let hostEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = rest[..<hostEnd]
        var credentials: String? = nil
        if let at = authority.lastIndex(of: "@") {
            guard let decoded = PercentEncoding.decode(authority[..<at]) else {
                throw CASError(
                    .invalidConfiguration, "remote URL '\(redacted)': malformed percent-encoding in the userinfo")
            }
            credentials = decoded.contains(":") ? decoded : decoded + ":"
            authority = authority[authority.index(after: at)...]
        }
        guard !authority.isEmpty else {
            throw CASError(.invalidConfiguration, "remote URL '\(redacted)' has no host")
        }
        var prefix = String(rest[hostEnd...])
        while prefix.hasSuffix("/") { prefix.removeLast() }
        return ParsedURL(
            scheme: scheme, base: "\(scheme)://\(authority)\(prefix)", credentials: credentials, zstd: zstd)
    }
}
