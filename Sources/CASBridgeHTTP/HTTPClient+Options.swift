import CASBridge

extension HTTPClient {
    /// Timeouts, retries and TLS settings of a client.
    public struct Options: Sendable {
        /// Seconds to wait for a connection.
        public var connectTimeout: Double = 3
        /// Seconds one attempt may take, transfer included.
        public var requestTimeout: Double = 60
        /// Seconds an attempt may go without receiving or sending a byte (a server that
        /// accepts and never answers); rounded up to whole seconds. Added to the shared
        /// contract by the HTTP backend.
        public var stallTimeout: Double = 10
        /// Skip TLS verification. For tests only.
        public var insecure = false
        /// Extra attempts for idempotent requests (GET, HEAD, PUT, DELETE), with backoff.
        /// Connection failures and 408/429/5xx answers are retried; timeouts are not.
        public var retries = 2
        /// The delay before the first retry; each further retry waits four times longer.
        public var retryDelay: Double = 0.05
        /// Creates the default options.
        public init() {}
    }
}
