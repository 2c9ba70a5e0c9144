public import CASBridge

/// A sink whose first attempt fails once it has taken `failAfter` bytes (as a download cut
/// part-way would), and which takes every later attempt whole: what a retried read must
/// leave in it is exactly the blob.
public final class FailingOnceSink: BlobSink, @unchecked Sendable {
    /// The bytes delivered since the last restart.
    public private(set) var bytes: [UInt8] = []
    /// How many attempts started.
    public private(set) var restarts = 0
    /// Whether the first attempt failed.
    public private(set) var failed = false
    private let failAfter: Int

    /// Creates a sink that fails its first attempt after `failAfter` bytes.
    public init(failAfter: Int) { self.failAfter = failAfter }

    public func restart() throws {
        bytes = []
        restarts += 1
    }

    public func write(_ piece: UnsafeRawBufferPointer) throws {
        bytes += piece
        if !failed && bytes.count >= failAfter {
            failed = true
            throw SinkFailure()
        }
    }

    /// The failure of the first attempt.
    public struct SinkFailure: Error {}
}
