/// A remote store's URL split into its parts: the one parser of `http(s)://`, `s3://` and
/// `grpc(s)://` URLs, so every backend reads hosts, ports, `%XX` and parameters the same way.
///
/// `scheme://[user[:password]@]host[:port][/path][?name=value&…]`. The host may be an IPv6
/// address in brackets. The user, password, path and parameters are percent-decoded (`+` is a
/// space in parameters); the path is also kept as written. Errors name the URL with its
/// password replaced by `***` (`redacted`), never the password itself.
package struct RemoteURL: Sendable, Equatable {
    /// The scheme, lowercased (`http`, `https`, `s3`, `grpc`, `grpcs`).
    package var scheme: String
    /// The user from the userinfo, decoded; nil without userinfo.
    package var user: String?
    /// The password from the userinfo, decoded; nil without one.
    package var password: String?
    /// The host as written, without the brackets of an IPv6 address; for `s3://`, the bucket.
    package var host: String
    /// The port; nil when the URL has none.
    package var port: Int?
    /// The path as written (each `%XX` kept), from its leading `/`; empty for none.
    package var encodedPath: String
    /// The path decoded, without leading or trailing slashes; empty for none.
    package var path: String
    /// The query's parameters decoded, in their order; a name without `=` has an empty value.
    package var parameters: [Parameter]

    /// One `name=value` of the query.
    package struct Parameter: Sendable, Equatable {
        /// The decoded name.
        package var name: String
        /// The decoded value.
        package var value: String
    }

    /// The host as it appears in a URL: IPv6 addresses in brackets.
    package var urlHost: String { host.contains(":") ? "[\(host)]" : host }

    /// `host[:port]` as it appears in a URL, without userinfo.
    package var authority: String { port.map { "\(urlHost):\($0)" } ?? urlHost }

    /// The URL with any password replaced by `***`, for messages.
    package var redacted: String { Self.redact(text) }

    /// The URL as given (it may hold a password: never put it in a message; see `redacted`).
    private let text: String
    /// What the URL is, for messages (`remote URL`, `S3 endpoint`).
    private let label: String

    /// Parses `text`; throws `CASError(.invalidConfiguration)` naming `label`, the redacted URL
    /// and what is wrong.
    package init(_ text: String, label: String = "remote URL") throws {
        self.text = text
        self.label = label
        let shown = Self.redact(text)
        func invalid(_ why: String) -> CASError {
            CASError(.invalidConfiguration, "\(label) '\(shown)': \(why)")
        }
        guard let separator = text.firstRange(of: "://"), separator.lowerBound > text.startIndex else {
            throw invalid("no scheme; expected scheme://host[:port][/path]")
        }
        scheme = text[..<separator.lowerBound].lowercased()
        guard scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }) else {
            throw invalid("the scheme is not a URL scheme")
        }
        var rest = text[separator.upperBound...]
        if rest.contains("#") { throw invalid("a fragment (#…) is not allowed") }
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        encodedPath = String(rest[authorityEnd...])
        guard let decodedPath = PercentEncoding.decode(Substring(encodedPath)) else {
            throw invalid("malformed percent-encoding in the path")
        }
        path = decodedPath.split(separator: "/", omittingEmptySubsequences: false)
            .drop(while: \.isEmpty).reversed().drop(while: \.isEmpty).reversed().joined(separator: "/")

        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            let colon = userinfo.firstIndex(of: ":")
            guard let decodedUser = PercentEncoding.decode(userinfo[..<(colon ?? userinfo.endIndex)]) else {
                throw invalid("malformed percent-encoding in the user name")
            }
            user = decodedUser
            if let colon {
                // The message must not show the password, not even a piece of it.
                guard let decoded = PercentEncoding.decode(userinfo[userinfo.index(after: colon)...]) else {
                    throw invalid("malformed percent-encoding in the password (not shown)")
                }
                password = decoded
            }
            authority = authority[authority.index(after: at)...]
        }

        var hostPart = authority
        var portPart: Substring? = nil
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address '[…'") }
            let after = hostPart[hostPart.index(after: close)...]
            if after.hasPrefix(":") {
                portPart = after.dropFirst()
            } else if !after.isEmpty {
                throw invalid("unexpected '\(after)' after the IPv6 address")
            }
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
            guard hostPart.contains(":") else { throw invalid("'[\(hostPart)]' is not an IPv6 address") }
        } else if let colon = hostPart.lastIndex(of: ":") {
            portPart = hostPart[hostPart.index(after: colon)...]
            hostPart = hostPart[..<colon]
        }
        guard !hostPart.isEmpty else {
            throw invalid(scheme == "s3" ? "no bucket; expected s3://bucket[/prefix]" : "no host")
        }
        host = String(hostPart)
        if let portPart {
            guard portPart.allSatisfy(\.isASCII), let p = Int(portPart), (1...65535).contains(p) else {
                // A password with an unencoded '/' ends up here: name the port only when no password is hidden.
                throw invalid("port \(shown == text ? "'\(portPart)' " : "")is not a number from 1 to 65535")
            }
            port = p
        }

        parameters = []
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let eq = pair.firstIndex(of: "=") ?? pair.endIndex
            let valueText = eq < pair.endIndex ? pair[pair.index(after: eq)...] : ""
            guard let name = PercentEncoding.decode(pair[..<eq], plusAsSpace: true),
                let value = PercentEncoding.decode(valueText, plusAsSpace: true)
            else {
                throw invalid("malformed percent-encoding in the parameter '\(pair)'")
            }
            parameters.append(Parameter(name: name, value: value))
        }
    }

    /// An error about this URL: `<label> '<redacted>': why`.
    package func invalid(_ why: String) -> CASError {
        CASError(.invalidConfiguration, "\(label) '\(redacted)': \(why)")
    }

    /// Throws unless the scheme is one of `schemes`, naming `form` (the expected shape).
    package func require(scheme schemes: Set<String>, form: String) throws {
        guard schemes.contains(scheme) else { throw invalid("the scheme '\(scheme)' is not \(form)") }
    }

    /// Throws if the URL has a parameter not in `known`.
    package func requireParameters(in known: [String]) throws {
        for p in parameters where !known.contains(p.name) {
            throw invalid(
                known.isEmpty
                    ? "unknown parameter '\(p.name)' (\(scheme):// takes none)"
                    : "unknown parameter '\(p.name)' (known: \(known.joined(separator: ", ")))")
        }
    }

    /// The value of the last parameter named `name`.
    package func parameter(_ name: String) -> String? {
        parameters.last { $0.name == name }?.value
    }

    /// `text` with the password of its userinfo (if any) replaced by `***`. The userinfo is taken to
    /// run to the last `@` before the query, so that a password with an unencoded `/` is hidden too.
    package static func redact(_ text: String) -> String {
        let restStart = text.firstRange(of: "://")?.upperBound ?? text.startIndex
        let rest = text[restStart...]
        let queryStart = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? rest.endIndex
        guard let at = rest[..<queryStart].lastIndex(of: "@") else { return text }
        let userinfo = rest[..<at]
        guard let colon = userinfo.firstIndex(of: ":") else { return text }
        return text[..<restStart] + userinfo[..<colon] + ":***" + rest[at...]
    }
}
