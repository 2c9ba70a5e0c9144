import CASBridge

/// Where an S3 remote lives: parsed from
/// `s3://bucket[/prefix][?region=…&endpoint=…&path_style=true&zstd=off]`
/// and the AWS environment.
///
/// Region: the URL's `region`, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`,
/// else `us-east-1`. Endpoint: the URL's `endpoint`, `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`,
/// else AWS (`https://s3.REGION.amazonaws.com`). Addressing: path-style with a custom endpoint,
/// virtual-hosted on AWS, unless `path_style=true|false` says otherwise.
public struct S3Location: Sendable, Equatable {
    /// The bucket.
    public var bucket: String
    /// The key prefix without leading or trailing slashes; empty for none.
    public var prefix: String
    /// The signing region.
    public var region: String
    /// `http` or `https`.
    public var scheme: String
    /// The endpoint's host (without the bucket for virtual-hosted addressing).
    public var endpointHost: String
    /// The endpoint's port, nil for the scheme's default.
    public var port: Int?
    /// Whether the bucket goes in the path (`/bucket/key`) rather than the host name.
    public var pathStyle: Bool
    /// Whether the endpoint is AWS's own.
    public var isAWS: Bool
    /// Whether uploads are compressed when that pays (`zstd=on`, the default); `zstd=off`
    /// stores plain objects, for a store on a link fast enough that decoding costs readers
    /// more than the bytes saved. Readers accept both forms either way.
    public var compresses = true

    /// Parses `url` with settings missing from it taken from `environment`.
    public init(url: String, environment: AWSEnvironment = .process) throws {
        guard url.lowercased().hasPrefix("s3://") else {
            throw CASError(.invalidConfiguration, "remote URL '\(url)' is not an s3:// URL")
        }
        var rest = Substring(url.dropFirst(5))
        var queryText: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            queryText = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        let bucketEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        bucket = String(rest[..<bucketEnd])
        prefix = String(rest[bucketEnd...]).split(separator: "/").joined(separator: "/")
        guard !bucket.isEmpty else {
            throw CASError(.invalidConfiguration, "remote URL '\(url)' names no bucket: use s3://bucket[/prefix]")
        }
        guard bucket.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" }) else {
            throw CASError(.invalidConfiguration, "remote URL '\(url)': '\(bucket)' is not a valid bucket name")
        }

        var regionParam: String? = nil
        var endpointParam: String? = nil
        var pathStyleParam: Bool? = nil
        for pair in queryText.split(separator: "&") where !pair.isEmpty {
            let eq = pair.firstIndex(of: "=") ?? pair.endIndex
            let valueText = eq < pair.endIndex ? pair[pair.index(after: eq)...] : ""
            guard let name = PercentEncoding.decode(pair[..<eq], plusAsSpace: true),
                let value = PercentEncoding.decode(valueText, plusAsSpace: true)
            else {
                throw CASError(.invalidConfiguration, "remote URL '\(url)': malformed percent-encoding in '\(pair)'")
            }
            switch name {
            case "region": regionParam = value
            case "endpoint": endpointParam = value
            case "zstd":
                switch value.lowercased() {
                case "on": compresses = true
                case "off": compresses = false
                default:
                    throw CASError(.invalidConfiguration, "remote URL '\(url)': zstd must be on or off, not '\(value)'")
                }
            case "path_style", "force_path_style":
                switch value.lowercased() {
                case "true", "1", "yes", "": pathStyleParam = true
                case "false", "0", "no": pathStyleParam = false
                default:
                    throw CASError(
                        .invalidConfiguration, "remote URL '\(url)': path_style must be true or false, not '\(value)'")
                }
            default:
                throw CASError(
                    .invalidConfiguration,
                    "remote URL '\(url)': unknown parameter '\(name)' (known: region, endpoint, path_style, zstd)")
            }
        }

        region =
            regionParam ?? environment.variable("AWS_REGION") ?? environment.variable("AWS_DEFAULT_REGION")
            ?? environment.profileSettings.values["region"].flatMap { $0.isEmpty ? nil : $0 } ?? "us-east-1"

        if let endpoint = endpointParam ?? environment.variable("AWS_ENDPOINT_URL_S3")
            ?? environment.variable("AWS_ENDPOINT_URL")
        {
            var text = Substring(endpoint)
            if let sep = text.firstRange(of: "://") {
                scheme = text[..<sep.lowerBound].lowercased()
                text = text[sep.upperBound...]
            } else {
                scheme = "https"
            }
            guard scheme == "http" || scheme == "https" else {
                throw CASError(.invalidConfiguration, "S3 endpoint '\(endpoint)' must be http:// or https://")
            }
            if let slash = text.firstIndex(of: "/") {
                guard text[slash...].allSatisfy({ $0 == "/" }) else {
                    throw CASError(.invalidConfiguration, "S3 endpoint '\(endpoint)' must not have a path")
                }
                text = text[..<slash]
            }
            if let colon = text.lastIndex(of: ":"), !text.hasSuffix("]") {
                guard let p = Int(text[text.index(after: colon)...]), (1...65535).contains(p) else {
                    throw CASError(.invalidConfiguration, "S3 endpoint '\(endpoint)' has an invalid port")
                }
                port = p
                text = text[..<colon]
            } else {
                port = nil
            }
            guard !text.isEmpty else {
                throw CASError(.invalidConfiguration, "S3 endpoint '\(endpoint)' has no host")
            }
            endpointHost = String(text)
            isAWS = endpointHost.hasSuffix(".amazonaws.com")
            pathStyle = pathStyleParam ?? !isAWS
        } else {
            scheme = "https"
            endpointHost = "s3.\(region).amazonaws.com"
            port = nil
            isAWS = true
            // Buckets that are not DNS labels (dots break TLS names) fall back to path style.
            let dnsSafe = bucket.allSatisfy { ($0.isLowercase && $0.isASCII) || $0.isNumber || $0 == "-" }
            pathStyle = pathStyleParam ?? !dnsSafe
        }
    }

    /// The `Host` header: the host (with the bucket when virtual-hosted) and any non-default port.
    public var host: String {
        let name = pathStyle ? endpointHost : "\(bucket).\(endpointHost)"
        guard let port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) else { return name }
        return "\(name):\(port)"
    }

    /// The object key of a blob or an action entry: `{prefix}/cas/{hex}` or `{prefix}/ac/{hex}`.
    public func key(_ kind: String, _ hex: String) -> String {
        prefix.isEmpty ? "\(kind)/\(hex)" : "\(prefix)/\(kind)/\(hex)"
    }

    /// The canonical (percent-encoded) path of `key`: `/bucket/key` or `/key`.
    public func path(forKey key: String) -> String {
        let encoded = SigV4Signer.uriEncode(key, encodeSlash: false)
        return pathStyle ? "/\(SigV4Signer.uriEncode(bucket))/\(encoded)" : "/\(encoded)"
    }

    /// The canonical path of the bucket itself (for bucket-level requests).
    public var bucketPath: String {
        pathStyle ? "/\(SigV4Signer.uriEncode(bucket))" : "/"
    }

    /// The URL of `path` (a canonical path from `path(forKey:)`).
    public func url(path: String) -> String {
        "\(scheme)://\(host)\(path)"
    }

    /// The remote's name for messages: `s3://bucket/prefix`.
    public var displayName: String {
        prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)"
    }
}
