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
    public init(url text: String, environment: AWSEnvironment = .process) throws {
        let url = try RemoteURL(text)
        try url.require(scheme: ["s3"], form: "s3://bucket[/prefix]")
        guard url.user == nil else {
            throw url.invalid("credentials in the URL are not supported; use the AWS environment")
        }
        guard url.port == nil else { throw url.invalid("an s3:// URL names a bucket, not host:port; use ?endpoint=") }
        bucket = url.host
        prefix = url.path.split(separator: "/").joined(separator: "/")
        guard bucket.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" }) else {
            throw url.invalid("'\(bucket)' is not a valid bucket name")
        }
        try url.requireParameters(in: ["region", "endpoint", "path_style", "force_path_style", "zstd"])
        let regionParam = url.parameter("region")
        let endpointParam = url.parameter("endpoint")
        var pathStyleParam: Bool? = nil
        for p in url.parameters {
            switch p.name {
            case "zstd":
                switch p.value.lowercased() {
                case "on": compresses = true
                case "off": compresses = false
                default: throw url.invalid("zstd must be on or off, not '\(p.value)'")
                }
            case "path_style", "force_path_style":
                switch p.value.lowercased() {
                case "true", "1", "yes", "": pathStyleParam = true
                case "false", "0", "no": pathStyleParam = false
                default: throw url.invalid("path_style must be true or false, not '\(p.value)'")
                }
            default: break
            }
        }

        region =
            regionParam ?? environment.variable("AWS_REGION") ?? environment.variable("AWS_DEFAULT_REGION")
            ?? environment.profileSettings.values["region"].flatMap { $0.isEmpty ? nil : $0 } ?? "us-east-1"

        if let endpoint = endpointParam ?? environment.variable("AWS_ENDPOINT_URL_S3")
            ?? environment.variable("AWS_ENDPOINT_URL")
        {
            let parsed = try RemoteURL(
                endpoint.contains("://") ? endpoint : "https://" + endpoint, label: "S3 endpoint")
            try parsed.require(scheme: ["http", "https"], form: "http:// or https://")
            guard parsed.path.isEmpty, parsed.parameters.isEmpty, parsed.user == nil else {
                throw parsed.invalid("an S3 endpoint is scheme://host[:port], without userinfo, path or query")
            }
            scheme = parsed.scheme
            port = parsed.port
            endpointHost = parsed.urlHost
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
