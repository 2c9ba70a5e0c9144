import CASBridge

extension HTTPCacheStore {
    /// What an `http(s)://` remote URL configures.
    package struct ParsedURL {
        var scheme: String
        /// `scheme://host[:port][/prefix]`: no userinfo, no query, no trailing slash.
        var base: String
        /// `user:password` for basic authentication, decoded; nil without userinfo.
        var credentials: String?
        var zstd: ZstdMode
    }

    /// Reads `http(s)://[user[:password]@]host[:port][/prefix][?zstd=auto|on|off]`.
    package static func parse(_ text: String) throws -> ParsedURL {
        let url = try RemoteURL(text)
        try url.require(scheme: ["http", "https"], form: "http:// or https://")
        try url.requireParameters(in: ["zstd"])
        var zstd = ZstdMode.auto
        if let value = url.parameter("zstd") {
            guard let mode = ZstdMode(rawValue: value) else {
                throw url.invalid("zstd must be auto, on or off, not '\(value)'")
            }
            zstd = mode
        }
        let credentials = url.user.map { "\($0):\(url.password ?? "")" }
        var prefix = url.encodedPath
        while prefix.hasSuffix("/") { prefix.removeLast() }
        return ParsedURL(
            scheme: url.scheme, base: "\(url.scheme)://\(url.authority)\(prefix)", credentials: credentials, zstd: zstd)
    }
}
