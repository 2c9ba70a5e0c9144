public import CASBridge
import CASBridgeHTTP
import Glibc

extension S3Store: CompressionReporting {}

extension S3Store {
    public func missingBlobs(_ digests: [Digest]) async throws -> Set<Digest> {
        let unique = Array(Set(digests))
        return try await withThrowingTaskGroup(of: Digest?.self) { group in
            var missing = Set<Digest>()
            var next = 0
            func add() {
                let digest = unique[next]
                next += 1
                group.addTask { try await self.exists(self.location.key("cas", digest.hex)) ? nil : digest }
            }
            while next < unique.count && next < headConcurrency { add() }
            while let result = try await group.next() {
                if let result { missing.insert(result) }
                if next < unique.count { add() }
            }
            return missing
        }
    }

    /// Whether the object `key` exists (HEAD: 200 yes, 404 no, anything else an error).
    func exists(_ key: String) async throws -> Bool {
        let response = try await send("HEAD", key: key)
        switch response.status {
        case 200..<300: return true
        case 404: return false
        default: throw failure(response, "HEAD", key: key)
        }
    }

    public func readBlob(_ digest: Digest, size: Int64, to sink: any BlobSink) async throws -> Bool {
        if try inline.read(digest, size: size, to: sink) {
            counters.withLock { $0.add(raw: size, wire: size) }
            return true
        }
        return try await get(digest, size: size, sink: sink) != nil
    }

    /// GETs blob `digest` into `sink`; nil if the bucket does not hold it.
    private func get(_ digest: Digest, size: Int64, sink: any BlobSink) async throws -> HTTPClient.Response? {
        let key = location.key("cas", digest.hex)
        // Compressed objects carry the metadata marker, Content-Encoding, or both; the HTTP
        // client decodes either on the fly, so the sink takes the plain content.
        let response = try await send("GET", key: key, sink: sink)
        switch response.status {
        case 200..<300: break
        case 404: return nil
        default: throw failure(response, "GET", key: key)
        }
        let marked =
            Self.header(response, Self.encodingHeader)?.lowercased() == "zstd"
            || Self.header(response, "content-encoding")?.lowercased() == "zstd"
        let wire = Int64(Self.header(response, "content-length") ?? "") ?? size
        counters.withLock { $0.add(raw: size, wire: marked ? wire : size) }
        return response
    }

    public func writeBlob(_ digest: Digest, size: Int64, from path: String) async throws {
        let key = location.key("cas", digest.hex)
        var body = HTTPClient.Body.file(path: path, size: size)
        var payloadHash = digest.hex
        var headers: [(name: String, value: String)] = [("content-type", "application/octet-stream")]
        var compressedPath: String? = nil
        defer { if let compressedPath { unlink(compressedPath) } }
        if location.compresses, let copy = try await Zstd.compressedUpload(of: path, size: size) {
            compressedPath = copy.path
            body = .file(path: copy.path, size: copy.size)
            payloadHash = copy.digest.hex
            headers.append(("content-encoding", "zstd"))
            headers.append((Self.encodingHeader, "zstd"))
        }
        let response = try await send("PUT", key: key, headers: headers, payloadHash: payloadHash, body: body)
        guard response.isSuccess else { throw failure(response, "PUT", key: key) }
        inline.noteWritten(digest, size: size, path: path)
        let wire: Int64 = if case .file(_, let n) = body { n } else { size }
        counters.withLock { $0.add(raw: size, wire: wire) }
    }

    public func entry(for actionID: Digest) async throws -> ActionEntry? {
        guard let (entry, body) = try await actionResult(for: actionID) else { return nil }
        inline.noteReceived(entry, in: body)
        return entry
    }

    /// The entry recorded for `actionID` and the ActionResult it came in. Undecodable
    /// entries (another writer's, or damaged) are misses.
    public func actionResult(for actionID: Digest) async throws -> (ActionEntry, [UInt8])? {
        let key = location.key("ac", ActionMapping.actionKey(for: actionID).digest.hex)
        let response = try await send("GET", key: key)
        switch response.status {
        case 200..<300:
            guard let entry = ActionMapping.entry(fromActionResult: response.body) else { return nil }
            return (entry, response.body)
        case 404: return nil
        default: throw failure(response, "GET", key: key)
        }
    }

    public func record(_ entry: ActionEntry, for actionID: Digest) async throws {
        try await putActionResult(inline.actionResult(for: entry), for: actionID)
    }

    /// Stores `bytes` as the ActionResult of `actionID`.
    public func putActionResult(_ bytes: [UInt8], for actionID: Digest) async throws {
        let key = location.key("ac", ActionMapping.actionKey(for: actionID).digest.hex)
        let response = try await send(
            "PUT", key: key, headers: [("content-type", "application/octet-stream")],
            payloadHash: SHA256.hash(bytes).hex, body: .bytes(bytes))
        guard response.isSuccess else { throw failure(response, "PUT", key: key) }
    }

    /// Creates the bucket (for tests and first-time setup); an existing bucket owned by
    /// the caller is fine.
    public func createBucket() async throws {
        var body: [UInt8] = []
        if location.region != "us-east-1" {
            body = Array(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(location.region)</LocationConstraint></CreateBucketConfiguration>"
                    .utf8)
        }
        let response = try await send(
            "PUT", key: nil, payloadHash: SHA256.hash(body).hex, body: body.isEmpty ? .none : .bytes(body))
        if response.isSuccess { return }
        if let parsed = S3ErrorResponse(xml: response.body), parsed.code == "BucketAlreadyOwnedByYou" { return }
        throw failure(response, "PUT", key: nil)
    }

    /// The value of response header `name` (lowercase), without surrounding whitespace.
    static func header(_ response: HTTPClient.Response, _ name: String) -> String? {
        guard let raw = response.headers[name] else { return nil }
        let scalars = raw.unicodeScalars.filter { $0 != "\r" && $0 != "\n" }
        let start = scalars.firstIndex { $0 != " " && $0 != "\t" } ?? scalars.endIndex
        let end = scalars.lastIndex { $0 != " " && $0 != "\t" }.map { scalars.index(after: $0) } ?? start
        return String(String.UnicodeScalarView(scalars[start..<max(start, end)]))
    }
}
