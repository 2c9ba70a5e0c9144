/// Takes a blob's bytes in order as a store receives them, instead of a file.
///
/// A sink is used by one read at a time, from whichever thread the store delivers on;
/// a store calls `restart()` before the first byte of every attempt, so a retried
/// download starts over.
public protocol BlobSink: AnyObject, Sendable {
    /// Forgets what an earlier attempt delivered.
    func restart() throws
    /// Takes the next bytes.
    func write(_ bytes: UnsafeRawBufferPointer) throws
}
