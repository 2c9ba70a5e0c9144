public import CASBridge

/// A sink that keeps what it is given (the last attempt's bytes).
public final class CollectingSink: BlobSink, @unchecked Sendable {
    /// The bytes delivered since the last restart.
    public private(set) var bytes: [UInt8] = []
    /// How many attempts started.
    public private(set) var restarts = 0

    /// Creates an empty sink.
    public init() {}

    public func restart() throws {
        bytes = []
        restarts += 1
    }

    public func write(_ piece: UnsafeRawBufferPointer) throws {
        bytes += piece
    }
}
