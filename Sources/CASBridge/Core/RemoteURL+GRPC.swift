extension RemoteURL {
    /// The parts of a `grpc(s)://host:port[/instance]` URL (`REAPIEndpoint`'s), read here in
    /// the core so that the fuzz targets run the same checks.
    package struct GRPCParts: Sendable, Equatable {
        /// The host (IPv6 without brackets).
        package var host: String
        /// The port: the URL's, else 443 for `grpcs` and 80 for `grpc`.
        package var port: Int
        /// Whether the scheme is `grpcs`.
        package var tls: Bool
        /// The REAPI instance name: the decoded path without its outer slashes.
        package var instanceName: String
    }

    /// The URL as a gRPC endpoint; throws `CASError(.invalidConfiguration)` naming the URL
    /// unless it is `grpc://` or `grpcs://` without credentials or parameters.
    package func grpcParts() throws -> GRPCParts {
        try require(scheme: ["grpc", "grpcs"], form: "grpc:// or grpcs:// (grpc(s)://host:port[/instance])")
        guard user == nil else {
            throw invalid("credentials in the URL are not supported; use CASBRIDGE_GRPC_HEADERS")
        }
        try requireParameters(in: [])
        let tls = scheme == "grpcs"
        return GRPCParts(host: host, port: port ?? (tls ? 443 : 80), tls: tls, instanceName: path)
    }
}
