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
                return REAPIReadWriter(file: try BlobFileWriter(path: path), sink: nil)
            } catch {
                throw CASError(.io, "grpc: cannot create \(path)", cause: error)
            }
        case .sink(let sink):
            try sink.restart()
            return REAPIReadWriter(file: nil, sink: sink)
        }
    }

    /// Writes `data` as the whole blob; returns its hash when the target is a file.
    func deliver(_ data: Data) throws -> ContentHash? {
        let writer = try open()
        try data.withUnsafeBytes { try writer.write($0) }
        return try writer.finish()
    }
}

/// Takes the pieces of one read attempt; used by one task at a time.
final class REAPIReadWriter: @unchecked Sendable {
    private var file: BlobFileWriter?
    private let sink: (any BlobSink)?

    init(file: BlobFileWriter?, sink: (any BlobSink)?) {
        self.file = file
        self.sink = sink
    }

    func write(_ piece: UnsafeRawBufferPointer) throws {
        if let sink { return try sink.write(piece) }
        guard let file else { return }
        do {
            try file.write(piece)
        } catch {
            throw CASError(.io, "grpc: cannot write \(file.path)", cause: error)
        }
    }

    /// Ends the attempt: writes the rest of the file, closes it and returns its hash (nil for
    /// a sink, or when already ended).
    func finish() throws -> ContentHash? {
        guard let file = file.take() else { return nil }
        do {
            return try file.finish()
        } catch {
            throw CASError(.io, "grpc: cannot write \(file.path)", cause: error)
        }
    }

    /// Ends the attempt without finishing the file (the caller removes it).
    func abandon() {
        file.take()?.abandon()
    }
}
