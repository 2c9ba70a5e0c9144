import CASBridge
import FoundationEssentials
import Glibc

/// Where a REAPI read puts a blob: a file (hashed as written) or a sink.
enum REAPIReadTarget: Sendable {
    case file(String)
    case sink(any BlobSink)

    /// Opens the target for one attempt's bytes.
    func open() throws -> REAPIReadWriter {
        switch self {
        case .file(let path):
            do {
                return REAPIReadWriter(fd: try FileSystem.openEmptied(path), path: path, sink: nil)
            } catch {
                throw CASError(.io, "grpc: cannot create \(path)", cause: error)
            }
        case .sink(let sink):
            try sink.restart()
            return REAPIReadWriter(fd: -1, path: "", sink: sink)
        }
    }

    /// Writes `data` as the whole blob; returns its hash when the target is a file.
    func deliver(_ data: Data) throws -> ContentHash? {
        let writer = try open()
        defer { writer.close() }
        try data.withUnsafeBytes { try writer.write($0) }
        return writer.close()
    }
}

/// Takes the pieces of one read attempt; used by one task at a time.
final class REAPIReadWriter: @unchecked Sendable {
    private var fd: Int32
    private let path: String
    private let sink: (any BlobSink)?
    private var hasher: SHA256? = SHA256()
    private var size: Int64 = 0

    init(fd: Int32, path: String, sink: (any BlobSink)?) {
        self.fd = fd
        self.path = path
        self.sink = sink
    }

    deinit { close() }

    func write(_ piece: UnsafeRawBufferPointer) throws {
        if let sink { return try sink.write(piece) }
        do {
            try FileSystem.writeAll(fd, piece, path: path)
        } catch {
            throw CASError(.io, "grpc: cannot write \(path)", cause: error)
        }
        hasher?.update(piece)
        size += Int64(piece.count)
    }

    /// Ends the attempt: closes the file and returns its hash (nil for a sink, or when
    /// already closed).
    @discardableResult
    func close() -> ContentHash? {
        guard fd >= 0 else { return nil }
        Glibc.close(fd)
        fd = -1
        guard let digest = hasher.take()?.finalize() else { return nil }
        return ContentHash(digest: digest, size: size)
    }
}
