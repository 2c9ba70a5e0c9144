import CASBridge
import FoundationEssentials
import GRPCCore
import Glibc

extension REAPIStore {
    /// Reads a blob through ByteStream.Read (`{instance}/blobs/{hash}/{size}`, or
    /// `{instance}/compressed-blobs/zstd/{hash}/{size}` when the server supports zstd),
    /// streaming the (decompressed) chunks into `sink`; false if the server lacks the blob.
    /// Every attempt restarts the sink. A failure of the sink's own (a local disk) is an
    /// `.io` error, not the remote's.
    func streamRead(_ digest: Digest, size: Int64, to sink: any BlobSink) async throws -> Bool {
        let connection = try connection()
        let zstd = await capabilities().zstdStreams
        var request = Google_Bytestream_ReadRequest()
        request.resourceName = endpoint.resource(
            zstd ? "compressed-blobs/zstd/\(digest.hex)/\(size)" : "blobs/\(digest.hex)/\(size)")
        let metadata = self.metadata
        do {
            let wire = try await rpc("ByteStream.Read of \(digest)") { [request] options in
                do {
                    try sink.restart()
                } catch {
                    throw CASError(.io, "grpc: cannot take blob \(digest)", cause: error)
                }
                let decompressor = zstd ? ZstdDecompressor.take() : nil
                defer { decompressor?.recycle() }
                return try await connection.byteStream.read(request, metadata: metadata, options: options) {
                    response in
                    var received: Int64 = 0
                    var wire: Int64 = 0
                    func take(_ piece: UnsafeRawBufferPointer) throws {
                        received += Int64(piece.count)
                        guard received <= size else {
                            throw CASError(.digestMismatch, "the server sent more than \(size) bytes")
                        }
                        do {
                            try sink.write(piece)
                        } catch let error as CASError {
                            throw error
                        } catch {
                            throw CASError(.io, "grpc: cannot take blob \(digest)", cause: error)
                        }
                    }
                    for try await message in response.messages {
                        wire += Int64(message.data.count)
                        try message.data.withUnsafeBytes { bytes in
                            if let decompressor {
                                try decompressor.feed(bytes, sink: take)
                            } else {
                                try take(bytes)
                            }
                        }
                    }
                    if let decompressor, !decompressor.finished {
                        throw CASError(.remote, "the zstd stream ended early")
                    }
                    return wire
                }
            }
            counters.withLock { $0.add(raw: size, wire: wire) }
            return true
        } catch let error as CASError where error.code == .notFound {
            return false
        }
    }

    /// Writes a blob through ByteStream.Write
    /// (`{instance}/uploads/{uuid}/blobs/{hash}/{size}`) in chunks of at most `chunkSize`
    /// bytes read from `path`; compressed with zstd
    /// (`{instance}/uploads/{uuid}/compressed-blobs/zstd/{hash}/{size}`) when the server
    /// supports that and it pays.
    func streamWrite(_ digest: Digest, size: Int64, from path: String) async throws {
        var body = (path: path, size: size)
        var compressedPath: String? = nil
        defer { if let compressedPath { unlink(compressedPath) } }
        if await capabilities().zstdStreams, let copy = try await Zstd.compressedUpload(of: path, size: size) {
            compressedPath = copy.path
            body = (copy.path, copy.size)
        }
        let compressed = compressedPath != nil
        let connection = try connection()
        let resource = endpoint.resource(
            "uploads/\(Self.uuid())/\(compressed ? "compressed-blobs/zstd" : "blobs")/\(digest.hex)/\(size)")
        let metadata = self.metadata
        let chunk = Self.chunkSize
        let upload = body
        let response = try await rpc("ByteStream.Write of \(digest)") { options in
            let fd: Int32
            do {
                fd = try FileSystem.open(upload.path, O_RDONLY)
            } catch {
                throw CASError(.io, "cannot open \(upload.path)", cause: error)
            }
            defer { close(fd) }
            return try await connection.byteStream.write(metadata: metadata, options: options) { writer in
                var offset: Int64 = 0
                repeat {
                    let bytes = try FileSystem.pread(
                        fd, count: Int(min(Int64(chunk), upload.size - offset)), at: offset, path: upload.path)
                    guard !bytes.isEmpty || offset == upload.size else {
                        throw CASError(.io, "\(upload.path) is shorter than \(upload.size) bytes")
                    }
                    var request = Google_Bytestream_WriteRequest()
                    if offset == 0 { request.resourceName = resource }
                    request.writeOffset = offset
                    request.data = Data(bytes)
                    offset += Int64(bytes.count)
                    request.finishWrite = offset == upload.size
                    try await writer.write(request)
                } while offset < upload.size
            }
        }
        // A server that already holds the blob may answer early: with its full size, or -1
        // for a compressed upload. A finished compressed upload counts compressed bytes.
        let complete =
            response.committedSize == size
            || (compressed && (response.committedSize == upload.size || response.committedSize == -1))
        guard complete else {
            throw CASError(
                .remote,
                "grpc: ByteStream.Write of \(digest) on \(endpoint.description) committed \(response.committedSize) of \(upload.size) bytes"
            )
        }
        counters.withLock { $0.add(raw: size, wire: upload.size) }
    }

    /// A random (version 4) UUID for upload resource names.
    static func uuid() -> String {
        var rng = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        bytes[6] = bytes[6] & 0x0f | 0x40
        bytes[8] = bytes[8] & 0x3f | 0x80
        let hex = bytes.map { b in String(b, radix: 16).count == 1 ? "0" + String(b, radix: 16) : String(b, radix: 16) }
        return hex[0..<4].joined() + "-" + hex[4..<6].joined() + "-" + hex[6..<8].joined() + "-"
            + hex[8..<10].joined() + "-" + hex[10..<16].joined()
    }
}
