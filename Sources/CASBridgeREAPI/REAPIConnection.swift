import GRPCCore
import GRPCNIOTransportHTTP2

/// One HTTP/2 channel to a REAPI server and the service clients over it. Created on
/// first use, so a helper that never talks to the server never starts NIO.
final class REAPIConnection: Sendable {
    typealias Transport = HTTP2ClientTransport.Posix

    let client: GRPCClient<Transport>
    let capabilities: Build_Bazel_Remote_Execution_V2_Capabilities.Client<Transport>
    let cas: Build_Bazel_Remote_Execution_V2_ContentAddressableStorage.Client<Transport>
    let actionCache: Build_Bazel_Remote_Execution_V2_ActionCache.Client<Transport>
    let byteStream: Google_Bytestream_ByteStream.Client<Transport>
    private let runner: Task<Void, Never>

    /// Whether `host` is a dotted-quad IPv4 address.
    static func isIPv4(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { p in !p.isEmpty && p.count <= 3 && p.allSatisfy(\.isASCII) && UInt8(p) != nil }
    }

    init(endpoint: REAPIEndpoint, insecure: Bool) throws {
        let target: any ResolvableTarget
        if endpoint.host.contains(":") {
            target = ResolvableTargets.IPv6.ipv6(address: endpoint.host, port: endpoint.port)
        } else if Self.isIPv4(endpoint.host) {
            // Not a DNS target: its name would become the TLS SNI, which may not be an address.
            target = ResolvableTargets.IPv4.ipv4(address: endpoint.host, port: endpoint.port)
        } else {
            target = ResolvableTargets.DNS(host: endpoint.host, port: endpoint.port)
        }
        let security: Transport.TransportSecurity =
            endpoint.tls
            ? .tls { tls in
                if insecure { tls.serverCertificateVerification = .noVerification }
            }
            : .plaintext
        var config = Transport.Config.defaults
        // Blobs and segments are megabytes: larger HTTP/2 frames and windows mean fewer frames
        // to decode and fewer flow-control round trips (the defaults are 16 KiB and 8 MiB).
        config.http2.maxFrameSize = 1 << 20
        config.http2.targetWindowSize = 64 << 20
        // Reconnect quickly after the server comes back; RPCs in between fail at once
        // (waitForReady is off) and the remote tier's circuit breaker takes over.
        config.backoff = .init(initial: .milliseconds(200), max: .seconds(10), multiplier: 1.6, jitter: 0.2)
        let transport = try Transport(target: target, transportSecurity: security, config: config)
        let client = GRPCClient(transport: transport)
        self.client = client
        capabilities = .init(wrapping: client)
        cas = .init(wrapping: client)
        actionCache = .init(wrapping: client)
        byteStream = .init(wrapping: client)
        runner = Task.detached {
            try? await client.runConnections()
        }
    }

    /// Starts closing the channel; in-flight RPCs finish first.
    func shutdown() {
        client.beginGracefulShutdown()
    }

    deinit {
        client.beginGracefulShutdown()
    }
}
