public import CASBridge

extension HTTPClient {
    /// A server's answer.
    public struct Response: Sendable {
        /// The HTTP status code.
        public var status: Int
        /// The response headers, names lowercased (the last of repeated headers wins).
        public var headers: [String: String]
        /// The body: empty when a 2xx body went to `downloadTo`; at most 64 KiB for non-2xx
        /// answers. A 2xx body sent with `Content-Encoding: zstd` is decompressed here and
        /// in `downloadTo` (the header is kept so callers can tell).
        public var body: [UInt8]
        /// The hash of what a 2xx answer wrote to `downloadTo` (after any decompression),
        /// computed as it was written; nil without `downloadTo`.
        public var downloadHash: ContentHash?

        /// Creates a response.
        public init(status: Int, headers: [String: String], body: [UInt8], downloadHash: ContentHash? = nil) {
            self.status = status
            self.headers = headers
            self.body = body
            self.downloadHash = downloadHash
        }

        /// Whether the status is 2xx.
        public var isSuccess: Bool { (200..<300).contains(status) }
    }
}
