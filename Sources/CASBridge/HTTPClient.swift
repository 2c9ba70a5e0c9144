/// An HTTP/1.1 and HTTP/2 client over libcurl.
///
/// All requests of a client run on one dedicated thread driving a curl multi handle, so
/// they proceed concurrently and reuse kept-alive connections from the multi handle's
/// pool (up to 32 per host); blocking curl calls never run on the Swift concurrency pool.
/// TLS certificates are verified unless `Options.insecure`.
///
/// Messages of thrown errors name the method and URL as given: pass URLs without
/// credentials (send them as headers).
public final class HTTPClient: Sendable {
    /// The client's settings.
    public let options: Options
    let loop: CurlLoop

    /// Creates a client; throws when libcurl cannot be loaded.
    public init(options: Options) throws(CASError) {
        self.options = options
        loop = try CurlLoop()
    }

    deinit {
        loop.shutdown()
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
                let response = try await loop.perform(transfer)
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
