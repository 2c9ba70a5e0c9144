/// One request from the go command to a GOCACHEPROG helper
/// (`cmd/go/internal/cacheprog.Request`).
public struct ProgRequest: Equatable, Sendable {
    /// The commands of the protocol.
    public enum Command: Equatable, Sendable {
        case get, put, close
        /// A command this helper does not know; answered with an error.
        case other(String)
    }

    /// The request's ID, echoed in its response.
    public var id: Int64
    /// What is asked.
    public var command: Command
    /// The cache key of a get or put.
    public var actionID: [UInt8]?
    /// The digest of a put's body (`OutputID`, or `ObjectID` from Go 1.21–1.23).
    public var outputID: [UInt8]?
    /// The number of body bytes that follow a put.
    public var bodySize: Int64

    /// Creates a request.
    public init(
        id: Int64, command: Command, actionID: [UInt8]? = nil, outputID: [UInt8]? = nil,
        bodySize: Int64 = 0
    ) {
        self.id = id
        self.command = command
        self.actionID = actionID
        self.outputID = outputID
        self.bodySize = bodySize
    }
}
