public import CASBridge
import FoundationEssentials
import GRPCCore
import Synchronization

/// A store on a Remote Execution API server (`grpc://host:port/instance`,
/// `grpcs://…`): blobs in its ContentAddressableStorage (batch calls for small blobs,
/// ByteStream for large ones) and entries in its ActionCache, keyed by the synthetic
/// Action of `ActionMapping` so that any REAPI client can read them.
///
/// The channel is opened on first use. Every RPC carries the configured metadata
/// (`CASBRIDGE_GRPC_HEADERS`, never logged) and a deadline.
public final class REAPIStore: CacheStore, CompressionReporting {
    public var name: String { "grpc" }

    /// Where the server is.
    public let endpoint: REAPIEndpoint
    let metadata: Metadata
    let insecure: Bool
    let connectTimeout: Duration
    let requestTimeout: Duration
    let inline = InlineBlobs(receivedCapacity: 64 << 20)
    let reads = BatchReadCoalescer()
    let counters = Mutex(CompressionStatistics())
    private let sizes = Mutex<[Digest: Int64]>([:])

    /// The batch limit assumed when the server advertises none (0) or cannot say.
    static let defaultBatchLimit: Int64 = 4 * 1024 * 1024 - 64 * 1024
    /// The largest ByteStream chunk sent or asked for.
    static let chunkSize = 1 << 20

    private struct State {
        var connection: REAPIConnection?
        var capabilities: REAPICapabilities?
        /// Set once the server has answered anything: from then on RPCs are bounded by
        /// the request timeout only, before that also by the connect timeout.
        var reached = false
    }

    private let state = Mutex(State())

    /// Creates a store for `configuration.url` (`grpc://` or `grpcs://`). Nothing is
    /// connected until the first call.
    public init(configuration: RemoteConfiguration) throws {
        endpoint = try REAPIEndpoint(url: configuration.url)
        var metadata = Metadata()
        for header in configuration.grpcHeaders {
            metadata.addString(header.value, forKey: header.name.lowercased())
        }
        self.metadata = metadata
        insecure = configuration.insecure
        connectTimeout = max(configuration.connectTimeout, .milliseconds(1))
        requestTimeout = max(configuration.requestTimeout, .milliseconds(1))
    }

    deinit {
        state.withLock { $0.connection?.shutdown() }
    }

    /// What zstd did for this store's transfers (nothing on servers without it).
    public var compressionStatistics: CompressionStatistics { counters.withLock { $0 } }

    /// Closes the channel (in-flight RPCs finish first). Later calls reconnect.
    public func shutdown() {
        state.withLock { s in
            s.connection?.shutdown()
            s.connection = nil
        }
    }

    func connection() throws -> REAPIConnection {
        try state.withLock { s in
            if let c = s.connection { return c }
            do {
                let c = try REAPIConnection(endpoint: endpoint, insecure: insecure)
                s.connection = c
                return c
            } catch {
                throw CASError(.remote, "grpc: cannot set up a channel to \(endpoint.description): \(error)")
            }
        }
    }

    var callOptions: CallOptions {
        var options = CallOptions.defaults
        options.timeout = requestTimeout
        options.waitForReady = false
        options.maxRequestMessageBytes = 64 << 20
        options.maxResponseMessageBytes = 64 << 20
        return options
    }

    /// Runs one RPC with the call options and turns its failure into a `CASError` that
    /// names `what` (the call, digest and server). Until the server has answered once,
    /// the call is also bounded by the connect timeout.
    func rpc<T: Sendable>(
        _ what: @autoclosure () -> String, _ body: @escaping @Sendable (CallOptions) async throws -> T
    ) async throws -> T {
        let options = callOptions
        let reached = state.withLock { $0.reached }
        do {
            let value: T
            if reached {
                value = try await body(options)
            } else {
                value = try await withConnectDeadline { try await body(options) }
            }
            state.withLock { $0.reached = true }
            return value
        } catch let error as RPCError {
            if ![.unavailable, .deadlineExceeded, .cancelled].contains(error.code) {
                state.withLock { $0.reached = true }
            }
            throw casError(error, what())
        } catch let error as CASError {
            throw CASError(error.code, "grpc: \(what()) on \(endpoint.description): \(error.message)")
        } catch {
            throw CASError(.remote, "grpc: \(what()) on \(endpoint.description) failed: \(error)")
        }
    }

    private func withConnectDeadline<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let timeout = connectTimeout
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let value = next { return value }
                // The timer fired: give up unless the server has answered meanwhile.
                if !self.state.withLock({ $0.reached }) {
                    throw CASError(.timeout, "no answer within the connect timeout (\(timeout))")
                }
            }
            throw CASError(.remote, "the call ended without an answer")
        }
    }

    /// Maps an RPC failure to a `CASError`. Only the status code and the server's message
    /// are shown: the metadata (credentials) never is.
    func casError(_ error: RPCError, _ what: String) -> CASError {
        let code: CASError.Code =
            switch error.code {
            case .unauthenticated, .permissionDenied: .unauthorized
            case .deadlineExceeded: .timeout
            case .notFound: .notFound
            default: .remote
            }
        var message = "grpc: \(what) on \(endpoint.description) failed: \(error.code): \(error.message)"
        if let cause = error.cause { message += " (\(cause))" }
        return CASError(code, message)
    }

    /// What the server supports: its `max_batch_total_size_bytes` (`defaultBatchLimit` if it
    /// gives none) and the compressors it takes, from GetCapabilities (asked once; a server
    /// that cannot answer is assumed to support no compression).
    func capabilities() async -> REAPICapabilities {
        if let known = state.withLock({ $0.capabilities }) { return known }
        do {
            let connection = try connection()
            var request = Build_Bazel_Remote_Execution_V2_GetCapabilitiesRequest()
            request.instanceName = endpoint.instanceName
            let metadata = self.metadata
            let answer = try await rpc("GetCapabilities") { [request] options in
                try await connection.capabilities.getCapabilities(request, metadata: metadata, options: options)
            }
            let cache = answer.cacheCapabilities
            let known = REAPICapabilities(
                batchLimit: cache.maxBatchTotalSizeBytes > 0 ? cache.maxBatchTotalSizeBytes : Self.defaultBatchLimit,
                zstdStreams: cache.supportedCompressors.contains(.zstd),
                zstdBatchUpdates: cache.supportedBatchUpdateCompressors.contains(.zstd))
            state.withLock { $0.capabilities = known }
            return known
        } catch let error as CASError where error.code == .remote || error.code == .notFound {
            // A server without the Capabilities service: remember the defaults.
            if error.message.contains("unimplemented") {
                state.withLock { $0.capabilities = .assumed }
            }
            return .assumed
        } catch {
            return .assumed
        }
    }

    /// The largest total a batch call may carry (see `capabilities()`).
    func batchLimit() async -> Int64 {
        await capabilities().batchLimit
    }

    /// Segments are stored compressed unless the server compresses ByteStream transfers
    /// itself (it lists zstd).
    public func compressesSegments() async -> Bool {
        !(await capabilities().zstdStreams)
    }

    /// Whether a blob of `size` bytes goes through a batch call rather than ByteStream.
    func fitsBatch(_ size: Int64) async -> Bool {
        // Small blobs fit any server's batch calls: no need to ask.
        if size <= 64 * 1024 { return true }
        return size + 1024 <= (await batchLimit())
    }

    /// Remembers the size of `digest` for `missingBlobs(_:)`, which is not given sizes.
    func learnSize(_ digest: Digest, _ size: Int64) {
        sizes.withLock { table in
            if table.count >= 1 << 16 { table.removeAll(keepingCapacity: true) }
            table[digest] = size
        }
    }

    func knownSize(_ digest: Digest) -> Int64? {
        sizes.withLock { $0[digest] }
    }

    static func digest(_ digest: Digest, _ size: Int64) -> Build_Bazel_Remote_Execution_V2_Digest {
        var d = Build_Bazel_Remote_Execution_V2_Digest()
        d.hash = digest.hex
        d.sizeBytes = size
        return d
    }
}
