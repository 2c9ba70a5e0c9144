import Glibc

/// An error from CASBridge: a code, a message naming the digest, backend and path
/// involved, and the underlying cause if there is one.
public struct CASError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// A request or input did not follow the expected format.
        public static let malformedInput = Code("malformed input")
        /// Content did not match its digest or declared size.
        public static let digestMismatch = Code("digest mismatch")
        /// A file system operation failed.
        public static let io = Code("I/O error")
        /// A remote store could not be reached or answered with an error.
        public static let remote = Code("remote error")
        /// A remote store rejected the credentials.
        public static let unauthorized = Code("unauthorized")
        /// The configuration (flags, environment, URL) is invalid.
        public static let invalidConfiguration = Code("invalid configuration")
        /// The requested item does not exist.
        public static let notFound = Code("not found")
        /// An operation did not finish in time.
        public static let timeout = Code("timeout")
        /// An external command failed.
        public static let commandFailed = Code("command failed")

        public var description: String { name }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A message that names what was wrong.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error & Sendable)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause { return "\(message): \(cause)" }
        return message
    }
}

/// An errno value with the name of the call that failed.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    /// The errno value.
    public var errno: Int32
    /// The system call or operation that failed.
    public var operation: String

    /// Creates an error from an errno value.
    public init(_ operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    public var description: String {
        "\(operation): \(String(cString: strerror(errno)))"
    }
}
