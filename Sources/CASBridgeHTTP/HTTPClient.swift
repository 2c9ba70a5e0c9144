public import CASBridge
import Glibc
import Synchronization

/// An HTTP/1.1 and HTTP/2 client over libcurl.
///
/// Requests run on dedicated threads (twice as many as cores, at least four, at most
/// eight: a thread also waits for the disk while it writes a download; started on first
/// use), each driving a curl multi handle, so they proceed concurrently and reuse kept-alive
/// connections from the handles' pools (up to 32 per host in all). A request goes to the thread
/// with the fewest requests in flight (the first when idle, so sequential requests share
/// one connection), so concurrent downloads are decoded, hashed and written on more than
/// one core.
/// Blocking curl calls never run on the Swift concurrency pool.
/// TLS certificates are verified unless `Options.insecure`.
///
/// Messages of thrown errors name the method and URL as given: pass URLs without
/// credentials (send them as headers).
public final class HTTPClient: Sendable {
    /// The client's settings.
    public let options: Options
    private let threads: Int
    private let state = Mutex<(loops: [CurlLoop], inFlight: [Int])>(([], []))

    /// Creates a client. libcurl is loaded on a thread of its own meanwhile (some 10 ms with
    /// its dependencies, which the helper's start-up, and so the go command, need not wait
    /// for); a request fails if it cannot be loaded.
    public init(options: Options) {
        self.options = options
        threads = min(8, max(4, 2 * sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        CurlLoop.preload()
    }

    /// The loops, created on first use; throws when libcurl cannot be loaded.
    private func loops() throws(CASError) -> [CurlLoop] {
        try state.withLock { s throws(CASError) in
            if s.loops.isEmpty {
                var loops: [CurlLoop] = []
                for _ in 0..<threads { loops.append(try CurlLoop(maxConnectionsPerHost: 32 / threads)) }
                s = (loops, [Int](repeating: 0, count: loops.count))
            }
            return s.loops
        }
    }

    /// Runs `transfer` on the least busy thread.
    private func perform(_ transfer: CurlTransfer, on loops: [CurlLoop]) async throws -> Response {
        let index = state.withLock { s in
            let i = s.inFlight.indices.min { s.inFlight[$0] < s.inFlight[$1] }!
            s.inFlight[i] += 1
            return i
        }
        defer { state.withLock { $0.inFlight[index] -= 1 } }
        return try await loops[index].perform(transfer)
    }

    deinit {
        for loop in state.withLock({ $0.loops }) { loop.shutdown() }
    }

    /// Sends one request. With `downloadTo`, a 2xx body is streamed into that file (never
    /// held in memory); non-2xx bodies are returned in `body` (capped at 64 KiB). A 2xx body
    /// with `Content-Encoding: zstd` is decompressed on the fly, as is one whose
    /// `zstdMarker` header (such as S3 object metadata) says `zstd`; the response carries
    /// the hash of what went to `downloadTo`. With `sink` instead, a 2xx body goes to the
    /// sink (restarted at every attempt).
    ///
    /// Idempotent methods (GET, HEAD, PUT, DELETE) are retried `options.retries` times
    /// with backoff on connection failures and 408/429/5xx answers; the last answer is
    /// returned. Throws `CASError(.remote)` or `CASError(.timeout)` on transport failures.
    public func send(
        method: String, url: String, headers: [(name: String, value: String)], body: Body,
        downloadTo: String? = nil, sink: (any BlobSink)? = nil, zstdMarker: String? = nil
    ) async throws -> Response {
        let idempotent = ["GET", "HEAD", "PUT", "DELETE"].contains(method)
        let attempts = idempotent ? 1 + max(0, options.retries) : 1
        var delay = options.retryDelay
        let loops = try loops()
        for attempt in 1...attempts {
            try Task.checkCancellation()
            let last = attempt == attempts
            let transfer = try CurlTransfer(
                method: method, url: url, headers: headers, body: body,
                download: CurlTransfer.Download(path: downloadTo, sink: sink, zstdMarker: zstdMarker),
                options: options)
            do {
                let response = try await perform(transfer, on: loops)
                if last || !HTTPClient.retryable(status: response.status) { return response }
            } catch let failure as CurlFailure {
                if last || !failure.retryable { throw failure.error }
            }
            // Up to ±25 % jitter so that many clients do not retry in step.
            try await Task.sleep(for: delay * Double.random(in: 0.75...1.25))
            delay *= 4
        }
        preconditionFailure("unreachable: the last attempt returns or throws")
    }

    /// Whether an answer with `status` is worth another attempt.
    static func retryable(status: Int) -> Bool {
        status == 408 || status == 429 || (500..<600).contains(status) && status != 501
    }
}
