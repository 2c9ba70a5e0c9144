public import CASBridge
import Glibc
import Synchronization

/// A remote cache in the bazel-remote HTTP layout: blobs at `{prefix}/cas/{sha256 hex}`,
/// action entries at `{prefix}/ac/{key hex}` holding a REAPI `ActionResult` keyed by the
/// digest of a synthetic REAPI `Action` (see `ActionMapping`). Works against bazel-remote
/// and against a plain WebDAV server (nginx `dav_methods PUT`).
///
/// Credentials come from the URL's userinfo (sent as basic auth, never shown in messages)
/// or from extra headers. Downloads always offer `Accept-Encoding: zstd` and accept both
/// forms; uploads are sent zstd-compressed only to servers known to decode them (see
/// `HTTPCacheStore.ZstdMode`), when the blob is at least 1 KiB and compression saves ≥ 10 %.
public final class HTTPCacheStore: CacheStore, ActionResultStore {
    /// When uploads are compressed: from the URL query `?zstd=auto|on|off` (default auto).
    public enum ZstdMode: String, Sendable {
        /// Probe once, on the first upload that could be compressed: the server must answer
        /// a GET with `Accept-Encoding: zstd` with a zstd body (bazel-remote does; a plain
        /// WebDAV server, which would store compressed bodies verbatim, does not).
        case auto
        /// Always compress (the server is known to understand `Content-Encoding: zstd`).
        case on
        /// Never compress uploads.
        case off
    }

    enum ZstdState {
        case unknown
        case probing(Task<Bool, Never>)
        case known(Bool)
    }

    public let name: String
    /// The base URL without credentials or query, without a trailing slash.
    public let baseURL: String
    /// The HTTP client.
    public let client: HTTPClient
    let headers: [(name: String, value: String)]
    let zstdMode: ZstdMode
    let zstdState = Mutex(ZstdState.unknown)
    /// How many HEAD requests a `missingBlobs` call runs at once.
    let headConcurrency = 16
    /// Small blobs inlined in action entries, so that a hit needs one request (the blob is
    /// still stored under `cas/`).
    let inline = InlineBlobs()

    /// Creates a store for `configuration.url` (`http://` or `https://`).
    public init(configuration: RemoteConfiguration) throws {
        let parsed = try HTTPCacheStore.parse(configuration.url)
        name = parsed.scheme
        baseURL = parsed.base
        zstdMode = parsed.zstd
        var headers = configuration.httpHeaders
        if let credentials = parsed.credentials,
            !headers.contains(where: { $0.name.lowercased() == "authorization" })
        {
            var encoded: [UInt8] = []
            Base64.encode(Array(credentials.utf8), into: &encoded)
            headers.append((name: "Authorization", value: "Basic " + String(decoding: encoded, as: UTF8.self)))
        }
        self.headers = headers
        var options = HTTPClient.Options()
        options.connectTimeout = configuration.connectTimeout
        options.requestTimeout = configuration.requestTimeout
        options.stallTimeout = min(options.stallTimeout, configuration.requestTimeout)
        options.insecure = configuration.insecure
        client = HTTPClient(options: options)
    }

    func url(_ kind: String, _ digest: Digest) -> String {
        "\(baseURL)/\(kind)/\(digest.hex)"
    }

    /// Sends a request with the store's headers; maps 401/403 and errors other than 404
    /// to `CASError`s naming the URL and status.
    func request(
        _ method: String, _ url: String, extraHeaders: [(name: String, value: String)] = [],
        body: HTTPClient.Body = .none, sink: (any BlobSink)? = nil
    ) async throws -> HTTPClient.Response {
        let response = try await client.send(
            method: method, url: url, headers: headers + extraHeaders, body: body, sink: sink)
        if response.isSuccess || response.status == 404 { return response }
        let detail = HTTPCacheStore.snippet(response.body)
        if response.status == 401 || response.status == 403 {
            throw CASError(
                .unauthorized,
                "\(name) remote: \(method) \(url) answered \(response.status); check the credentials in the URL or CASBRIDGE_HTTP_HEADERS\(detail)"
            )
        }
        throw CASError(.remote, "\(name) remote: \(method) \(url) answered \(response.status)\(detail)")
    }

    static func snippet(_ body: [UInt8]) -> String {
        guard !body.isEmpty else { return "" }
        let text = String(decoding: body.prefix(200), as: UTF8.self)
            .map { $0.isNewline ? " " : $0 }
        return ": " + String(text)
    }

    public func missingBlobs(_ digests: [Digest]) async throws -> Set<Digest> {
        try await withThrowingTaskGroup(of: Digest?.self) { group in
            var missing = Set<Digest>()
            var iterator = Set(digests).makeIterator()
            var running = 0
            while true {
                while running < headConcurrency, let digest = iterator.next() {
                    group.addTask {
                        let response = try await self.request("HEAD", self.url("cas", digest))
                        return response.status == 404 ? digest : nil
                    }
                    running += 1
                }
                guard let result = try await group.next() else { break }
                running -= 1
                if let digest = result { missing.insert(digest) }
            }
            return missing
        }
    }

    public func readBlob(_ digest: Digest, size: Int64, to sink: any BlobSink) async throws -> Bool {
        if try inline.read(digest, size: size, to: sink) { return true }
        let response = try await request(
            "GET", url("cas", digest), extraHeaders: [(name: "Accept-Encoding", value: "zstd")], sink: sink)
        return response.status != 404
    }

    public func writeBlob(_ digest: Digest, size: Int64, from path: String) async throws {
        let target = url("cas", digest)
        if let copy = try await Zstd.compressedUpload(of: path, size: size, accepts: { await uploadsCompressed() }) {
            defer { unlink(copy.path) }
            _ = try await request(
                "PUT", target, extraHeaders: [(name: "Content-Encoding", value: "zstd")],
                body: .file(path: copy.path, size: copy.size))
        } else {
            let response = try await request("PUT", target, body: .file(path: path, size: size))
            if response.status == 404 {
                throw CASError(
                    .remote, "\(name) remote: PUT \(target) answered 404 (does the server accept uploads there?)")
            }
        }
        inline.noteWritten(digest, size: size, path: path)
    }

    public func entry(for actionID: Digest) async throws -> ActionEntry? {
        guard let (entry, body) = try await actionResult(for: actionID) else { return nil }
        inline.noteReceived(entry, in: body)
        return entry
    }

    /// The entry recorded for `actionID` and the ActionResult it came in. Undecodable
    /// entries (another writer's, or damaged) are misses.
    public func actionResult(for actionID: Digest) async throws -> (ActionEntry, [UInt8])? {
        let key = ActionMapping.actionKey(for: actionID).digest
        let response = try await request(
            "GET", url("ac", key), extraHeaders: [(name: "Accept-Encoding", value: "zstd")])
        guard response.status != 404, let entry = ActionMapping.entry(fromActionResult: response.body) else {
            return nil
        }
        return (entry, response.body)
    }

    /// Sends `count` HEAD requests for the empty blob at once: each takes a connection of its
    /// own, which stays open for the downloads that follow.
    public func openConnections(_ count: Int) async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<count {
                group.addTask { _ = try? await self.request("HEAD", self.url("cas", .empty)) }
            }
        }
    }

    public func record(_ entry: ActionEntry, for actionID: Digest) async throws {
        try await putActionResult(inline.actionResult(for: entry), for: actionID)
    }

    /// Stores `bytes` as the ActionResult of `actionID`.
    public func putActionResult(_ bytes: [UInt8], for actionID: Digest) async throws {
        let key = ActionMapping.actionKey(for: actionID).digest
        let target = url("ac", key)
        let response = try await request(
            "PUT", target, extraHeaders: [(name: "Content-Type", value: "application/octet-stream")],
            body: .bytes(bytes))
        if response.status == 404 {
            throw CASError(
                .remote, "\(name) remote: PUT \(target) answered 404 (does the server accept uploads there?)")
        }
    }
}
