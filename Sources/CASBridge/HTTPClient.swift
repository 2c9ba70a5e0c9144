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
    let loops: [CurlLoop]
    private let inFlight: Mutex<[Int]>

    /// Creates a client; throws when libcurl cannot be loaded.
    public init(options: Options) throws(CASError) {
        self.options = options
        let threads = min(8, max(4, 2 * sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        var loops: [CurlLoop] = []
        for _ in 0..<threads { loops.append(try CurlLoop(maxConnectionsPerHost: 32 / threads)) }
        self.loops = loops
        inFlight = Mutex([Int](repeating: 0, count: loops.count))
    }

    /// Runs `transfer` on the least busy thread.
    private func perform(_ transfer: CurlTransfer) async throws -> Response {
        let index = inFlight.withLock { counts in
            let i = counts.indices.min { counts[$0] < counts[$1] }!
            counts[i] += 1
            return i
        }
        defer { inFlight.withLock { $0[index] -= 1 } }
        return try await loops[index].perform(transfer)
    }

    deinit {
        for loop in loops { loop.shutdown() }
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
        for attempt in 1...attempts {
            try Task.checkCancellation()
            let last = attempt == attempts
            let transfer = try CurlTransfer(
                method: method, url: url, headers: headers, body: body,
                download: CurlTransfer.Download(path: downloadTo, sink: sink, zstdMarker: zstdMarker),
                options: options)
            do {
                let response = try await perform(transfer)
                if last || !HTTPClient.retryable(status: response.status) { return response }
            } catch let failure as CurlFailure {
                if last || !failure.retryable { throw failure.error }
            }
            // Up to ±25 % jitter so that many clients do not retry in step.
            let jittered = delay * Double.random(in: 0.75...1.25)
            try await Task.sleep(for: .milliseconds(Int64(jittered * 1000)))
            delay *= 4
        }
        preconditionFailure("unreachable: the last attempt returns or throws")
    }

    /// Whether an answer with `status` is worth another attempt.
    static func retryable(status: Int) -> Bool {
        status == 408 || status == 429 || (500..<600).contains(status) && status != 501
    }
}
