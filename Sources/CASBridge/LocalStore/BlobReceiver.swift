import Glibc

/// The one way a blob gets into the local store: its bytes are written to a temporary file
/// of the store and hashed on the way, and it is published only under the digest they hash
/// to. A put body, a remote download, a segment's piece and a module tree's file all arrive
/// through one of these; `LocalStore.publish` takes only the `Verified` value that `publish`
/// here makes, so unverified content cannot reach a blob path.
///
/// A receiver is a `BlobSink`: a store's read writes to it directly, and `restart()` empties
/// the file for a retried read. Used by one read (or thread) at a time; `publish` or
/// `discard` ends it, and an unended receiver removes its file when released.
public final class BlobReceiver: BlobSink, @unchecked Sendable {
    /// Content the receiver hashed to exactly the digest it is published as.
    package struct Verified: ~Copyable {
        /// The temporary file holding the content.
        package let temp: String
        /// What it hashes to.
        package let hash: ContentHash

        fileprivate init(temp: String, hash: ContentHash) {
            self.temp = temp
            self.hash = hash
        }
    }

    /// What `publish` did.
    public enum Outcome: Sendable {
        /// The blob is in the store at `path`.
        case published(ContentHash, path: String)
        /// The content was not what was expected; nothing was published. Its hash.
        case mismatch(ContentHash)
    }

    private let store: LocalStore
    private var writer: BlobFileWriter?

    /// The temporary file being written.
    public let path: String

    /// Starts receiving a blob into `store`: expected to be `digest` when it is known (the
    /// temporary file is then made beside the blob's final place). With `throughPageCache`,
    /// every byte goes through the page cache (a put, whose file the go command reads next);
    /// otherwise most of a large download is written past it (see `BlobFileWriter`).
    public init(into store: LocalStore, expecting digest: Digest?, throughPageCache: Bool = false) throws {
        let temp = try store.makeTempFile(for: digest)
        self.store = store
        path = temp.path
        writer = BlobFileWriter(fd: temp.fd, path: temp.path, throughPageCache: throughPageCache)
    }

    deinit {
        discard()
    }

    /// Forgets what an earlier attempt delivered.
    public func restart() throws {
        guard let writer else { throw CASError(.io, "blob receiver for \(path) already ended") }
        try writer.restart()
    }

    /// Takes the next bytes. After a failed write, later ones are only hashed and throw it again.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let writer else { throw CASError(.io, "blob receiver for \(path) already ended") }
        try writer.write(bytes)
    }

    /// Ends the write and publishes the content if it is `digest` of `size` bytes (any
    /// content, named by its own hash, when `digest` is nil), recording it under `actionID`
    /// if one is given. On a mismatch the file is removed and nothing is published; a failed
    /// write or publish throws (the file removed too).
    public func publish(
        as digest: Digest?, size: Int64? = nil, actionID: Digest? = nil, time: Timestamp = .now()
    ) throws -> Outcome {
        guard let writer = writer.take() else { throw CASError(.io, "blob receiver for \(path) already ended") }
        let hash: ContentHash
        do {
            hash = try writer.finish()
        } catch {
            unlink(path)
            throw error
        }
        guard digest.map({ $0 == hash.digest }) ?? true, size.map({ $0 == hash.size }) ?? true else {
            unlink(path)
            return .mismatch(hash)
        }
        do {
            let target = try store.publish(Verified(temp: path, hash: hash), actionID: actionID, time: time)
            return .published(hash, path: target)
        } catch {
            unlink(path)
            throw error
        }
    }

    /// Ends the receiver without publishing: removes the file and returns the hash of what
    /// arrived (nil if already ended).
    @discardableResult
    public func discard() -> ContentHash? {
        guard let writer = writer.take() else { return nil }
        let hash = writer.abandon()
        unlink(path)
        return hash
    }

    /// Publishes the file at `path`, which this process made (a module cache file being
    /// captured), under the digest it hashes to; the file is moved into the store.
    public static func adopt(_ path: String, into store: LocalStore, time: Timestamp = .now()) throws -> ContentHash {
        let (digest, size) = try FileSystem.hashFile(path)
        let hash = ContentHash(digest: digest, size: size)
        _ = try store.publish(Verified(temp: path, hash: hash), actionID: nil, time: time)
        return hash
    }
}
