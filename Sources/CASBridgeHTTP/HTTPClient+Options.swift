import CASBridge

extension HTTPClient {
    /// Timeouts, retries and TLS settings of a client.
    public struct Options: Sendable {
        /// How long to wait for a connection.
        public var connectTimeout = Duration.seconds(3)
        /// How long one attempt may take, transfer included.
        public var requestTimeout = Duration.seconds(60)
        /// How long an attempt may go without receiving or sending a byte (a server that
        /// accepts and never answers); rounded up to whole seconds. Added to the shared
        /// contract by the HTTP backend.
        public var stallTimeout = Duration.seconds(10)
        /// Skip TLS verification. For tests only.
        public var insecure = false
        /// Extra attempts for idempotent requests (GET, HEAD, PUT, DELETE), with backoff.
        /// Connection failures and 408/429/5xx answers are retried; timeouts are not.
        public var retries = 2
        /// The delay before the first retry; each further retry waits four times longer.
        public var retryDelay = Duration.milliseconds(50)
        /// Creates the default options.
        public init() {}
    }
}
