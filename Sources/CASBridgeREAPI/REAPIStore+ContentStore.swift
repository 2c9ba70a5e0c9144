public import CASBridge
import FoundationEssentials
import GRPCCore
import Glibc

extension REAPIStore {
    /// google.rpc.Code values of batch answers.
    static let statusOK: Int32 = 0
    static let statusNotFound: Int32 = 5

    /// Without sizes, the sizes this store has seen (writes, reads, action results) are
    /// used; a blob of unknown size is reported missing, since REAPI servers address
    /// blobs by digest and size.
    public func missingBlobs(_ digests: [Digest]) async throws -> Set<Digest> {
        var sized: [(digest: Digest, size: Int64)] = []
        var unknown = Set<Digest>()
        for digest in digests {
            if let size = knownSize(digest) { sized.append((digest, size)) } else { unknown.insert(digest) }
        }
        return unknown.union(try await missingBlobs(sized: sized))
    }

    public func missingBlobs(sized blobs: [(digest: Digest, size: Int64)]) async throws -> Set<Digest> {
        // The empty blob is always present in a REAPI CAS.
        let asked = blobs.filter { !($0.digest == .empty && $0.size == 0) }
        guard !asked.isEmpty else { return [] }
        for blob in asked { learnSize(blob.digest, blob.size) }
        let connection = try connection()
        var request = Build_Bazel_Remote_Execution_V2_FindMissingBlobsRequest()
        request.instanceName = endpoint.instanceName
        request.blobDigests = asked.map { Self.digest($0.digest, $0.size) }
        let metadata = self.metadata
        let response = try await rpc("FindMissingBlobs of \(asked.count) blobs") { [request] options in
            try await connection.cas.findMissingBlobs(request, metadata: metadata, options: options)
        }
        var missing = Set<Digest>()
        for d in response.missingBlobDigests {
            if let digest = Digest(hex: d.hash) { missing.insert(digest) }
        }
        return missing
    }

    public func readBlob(_ digest: Digest, size: Int64, to sink: any BlobSink) async throws -> Bool {
        learnSize(digest, size)
        if let bytes = inline.take(digest, size: size) {
            try bytes.withUnsafeBytes { try Self.deliver($0, to: sink) }
            return true
        }
        if digest == .empty && size == 0 {
            try Self.deliver(UnsafeRawBufferPointer(start: nil, count: 0), to: sink)
            return true
        }
        if await fitsBatch(size) {
            let limit = await batchLimit()
            let data = try await reads.read(digest, size: size, limit: limit) { [self] blobs in
                try await batchReadBlobs(blobs)
            }
            guard let data else { return false }
            try data.withUnsafeBytes { try Self.deliver($0, to: sink) }
            return true
        }
        return try await streamRead(digest, size: size, to: sink)
    }

    /// Gives `sink` the whole blob `bytes` as one attempt.
    static func deliver(_ bytes: UnsafeRawBufferPointer, to sink: any BlobSink) throws {
        try sink.restart()
        try sink.write(bytes)
    }

    public func writeBlob(_ digest: Digest, size: Int64, from path: String) async throws {
        learnSize(digest, size)
        if digest == .empty && size == 0 { return }
        if await fitsBatch(size) {
            let bytes: [UInt8]
            do {
                bytes = try FileSystem.readFile(path)
            } catch {
                throw CASError(.io, "grpc: cannot read blob \(digest) from \(path)", cause: error)
            }
            guard Int64(bytes.count) == size else {
                throw CASError(
                    .digestMismatch, "grpc: \(path) holds \(bytes.count) bytes, not \(size), for blob \(digest)")
            }
            try await batchUpdate([(digest, bytes)])
        } else {
            try await streamWrite(digest, size: size, from: path)
        }
    }

    /// Uploads small blobs in one BatchUpdateBlobs call, each compressed with zstd when the
    /// server takes that and it pays.
    func batchUpdate(_ blobs: [(Digest, [UInt8])]) async throws {
        let connection = try connection()
        let zstd = await capabilities().zstdBatchUpdates
        var request = Build_Bazel_Remote_Execution_V2_BatchUpdateBlobsRequest()
        request.instanceName = endpoint.instanceName
        var wire: [(raw: Int64, wire: Int64)] = []
        request.requests = blobs.map { digest, bytes in
            var r = Build_Bazel_Remote_Execution_V2_BatchUpdateBlobsRequest.Request()
            r.digest = Self.digest(digest, Int64(bytes.count))
            r.data = Data(bytes)
            if zstd, let compressed = Zstd.compressedUpload(bytes) {
                r.data = Data(compressed)
                r.compressor = .zstd
            }
            wire.append((Int64(bytes.count), Int64(r.data.count)))
            return r
        }
        let metadata = self.metadata
        let what = blobs.count == 1 ? "BatchUpdateBlobs of \(blobs[0].0)" : "BatchUpdateBlobs of \(blobs.count) blobs"
        let response = try await rpc(what) { [request] options in
            try await connection.cas.batchUpdateBlobs(request, metadata: metadata, options: options)
        }
        for r in response.responses where r.status.code != Self.statusOK {
            throw CASError(
                .remote,
                "grpc: BatchUpdateBlobs of \(r.digest.hash) on \(endpoint.description) failed: status \(r.status.code): \(r.status.message)"
            )
        }
        counters.withLock { c in
            for w in wire { c.add(raw: w.raw, wire: w.wire) }
        }
    }

    /// One BatchReadBlobs call: each digest's bytes, nil if absent, or its own error.
    func batchReadBlobs(_ blobs: [(digest: Digest, size: Int64)]) async throws -> [Digest: BatchReadCoalescer.Answer] {
        let connection = try connection()
        var request = Build_Bazel_Remote_Execution_V2_BatchReadBlobsRequest()
        request.instanceName = endpoint.instanceName
        request.digests = blobs.map { Self.digest($0.digest, $0.size) }
        if await capabilities().zstdStreams { request.acceptableCompressors = [.zstd] }
        let metadata = self.metadata
        let what = blobs.count == 1 ? "BatchReadBlobs of \(blobs[0].digest)" : "BatchReadBlobs of \(blobs.count) blobs"
        let response = try await rpc(what) { [request] options in
            try await connection.cas.batchReadBlobs(request, metadata: metadata, options: options)
        }
        var answers: [Digest: BatchReadCoalescer.Answer] = [:]
        let sizes = Dictionary(blobs.map { ($0.digest, $0.size) }, uniquingKeysWith: { first, _ in first })
        for answer in response.responses {
            guard let digest = Digest(hex: answer.digest.hash) else { continue }
            switch answer.status.code {
            case Self.statusOK:
                answers[digest] = decoded(answer, digest: digest, size: sizes[digest] ?? Int64(answer.data.count))
            case Self.statusNotFound:
                answers[digest] = .success(nil)
            default:
                answers[digest] = .failure(
                    CASError(
                        .remote,
                        "grpc: BatchReadBlobs of \(digest) on \(endpoint.description) failed: status \(answer.status.code): \(answer.status.message)"
                    ))
            }
        }
        for blob in blobs where answers[blob.digest] == nil {
            answers[blob.digest] = .failure(
                CASError(.remote, "grpc: BatchReadBlobs on \(endpoint.description) did not answer for \(blob.digest)"))
        }
        return answers
    }

    /// A batch answer's blob, decompressed if the server sent it compressed; a failure if its
    /// compressor is unknown or its data does not decompress to `size` bytes.
    private func decoded(
        _ answer: Build_Bazel_Remote_Execution_V2_BatchReadBlobsResponse.Response, digest: Digest, size: Int64
    ) -> BatchReadCoalescer.Answer {
        switch answer.compressor {
        case .identity:
            counters.withLock { $0.add(raw: Int64(answer.data.count), wire: Int64(answer.data.count)) }
            return .success(answer.data)
        case .zstd:
            guard let plain = Zstd.decompress([UInt8](answer.data)), Int64(plain.count) == size else {
                return .failure(
                    CASError(
                        .digestMismatch,
                        "grpc: BatchReadBlobs of \(digest) on \(endpoint.description): zstd data that does not decompress to \(size) bytes"
                    ))
            }
            counters.withLock { $0.add(raw: size, wire: Int64(answer.data.count)) }
            return .success(Data(plain))
        default:
            return .failure(
                CASError(
                    .remote,
                    "grpc: BatchReadBlobs of \(digest) on \(endpoint.description) answered with compressor \(answer.compressor), which was not asked for"
                ))
        }
    }
}
