import CASBridge
import FoundationEssentials
import GRPCCore
import Glibc

extension REAPIStore {
    /// Reads a blob through ByteStream.Read (`{instance}/blobs/{hash}/{size}`), streaming
    /// the chunks into `target`.
    func streamRead(_ digest: Digest, size: Int64, to target: REAPIReadTarget) async throws -> ReadResult {
        let connection = try connection()
        var request = Google_Bytestream_ReadRequest()
        request.resourceName = endpoint.resource("blobs/\(digest.hex)/\(size)")
        let metadata = self.metadata
        do {
            return try await rpc("ByteStream.Read of \(digest)") { [request] options in
                let writer = try target.open()
                defer { writer.close() }
                return try await connection.byteStream.read(request, metadata: metadata, options: options) {
                    response in
                    var received: Int64 = 0
                    for try await message in response.messages {
                        received += Int64(message.data.count)
                        guard received <= size else {
                            throw CASError(.digestMismatch, "the server sent more than \(size) bytes")
                        }
                        try message.data.withUnsafeBytes { try writer.write($0) }
                    }
                    return .read(writer.close())
                }
            }
        } catch let error as CASError where error.code == .notFound {
            return .absent
        }
    }

    /// Writes a blob through ByteStream.Write
    /// (`{instance}/uploads/{uuid}/blobs/{hash}/{size}`) in chunks of at most
    /// `chunkSize` bytes read from `path`.
    func streamWrite(_ digest: Digest, size: Int64, from path: String) async throws {
        let connection = try connection()
        let resource = endpoint.resource("uploads/\(Self.uuid())/blobs/\(digest.hex)/\(size)")
        let metadata = self.metadata
        let chunk = Self.chunkSize
        let response = try await rpc("ByteStream.Write of \(digest)") { options in
            let fd: Int32
            do {
                fd = try FileSystem.open(path, O_RDONLY)
            } catch {
                throw CASError(.io, "cannot open \(path)", cause: error)
            }
            defer { close(fd) }
            return try await connection.byteStream.write(metadata: metadata, options: options) { writer in
                var offset: Int64 = 0
                repeat {
                    let bytes = try FileSystem.pread(
                        fd, count: Int(min(Int64(chunk), size - offset)), at: offset, path: path)
                    guard !bytes.isEmpty || offset == size else {
                        throw CASError(.io, "\(path) is shorter than \(size) bytes")
                    }
                    var request = Google_Bytestream_WriteRequest()
                    if offset == 0 { request.resourceName = resource }
                    request.writeOffset = offset
                    request.data = Data(bytes)
                    offset += Int64(bytes.count)
                    request.finishWrite = offset == size
                    try await writer.write(request)
                } while offset < size
            }
        }
        // A server that already holds the blob may answer early with its full size.
        guard response.committedSize == size else {
            throw CASError(
                .remote,
                "grpc: ByteStream.Write of \(digest) on \(endpoint.description) committed \(response.committedSize) of \(size) bytes"
            )
        }
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
