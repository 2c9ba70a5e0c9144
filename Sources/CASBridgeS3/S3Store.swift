public import CASBridge
public import CASBridgeHTTP
import Glibc
import Synchronization

/// A remote store in an S3-compatible bucket (AWS S3, SeaweedFS, MinIO, moto, …), signed
/// with AWS Signature Version 4.
///
/// Layout under the prefix, shared with the HTTP backend: `cas/{hex}` holds blobs (zstd-
/// compressed when that saves at least 10% of a blob of 1 KiB or more, marked with
/// `x-amz-meta-casbridge-encoding: zstd`) and `ac/{actionKey hex}` holds REAPI ActionResult bytes.
public final class S3Store: CacheStore, ActionResultStore {
    public let name = "s3"
    /// Where the bucket is.
    public let location: S3Location
    let signer: SigV4Signer
    let client: HTTPClient
    let counters = Mutex(CompressionStatistics())
    /// How many HEAD requests `missingBlobs` runs at once.
    let headConcurrency = 16
    /// Small blobs inlined in action entries, so that a hit needs one request (the blob is
    /// still stored under `cas/`).
    let inline = InlineBlobs()

    /// The metadata header that marks compressed objects.
    public static let encodingHeader = "x-amz-meta-casbridge-encoding"

    /// Creates a store for `location` signing with `credentials`.
    public init(location: S3Location, credentials: AWSCredentials, client: HTTPClient) {
        self.location = location
        signer = SigV4Signer(credentials: credentials, region: location.region, service: "s3")
        self.client = client
    }

    /// Creates a store from a remote configuration, with region, endpoint and credentials
    /// completed from `environment`.
    public convenience init(configuration: RemoteConfiguration, environment: AWSEnvironment = .process) throws {
        let location = try S3Location(url: configuration.url, environment: environment)
        let credentials = try AWSCredentials.resolve(environment)
        var options = HTTPClient.Options()
        options.connectTimeout = configuration.connectTimeout
        options.requestTimeout = configuration.requestTimeout
        options.insecure = configuration.insecure
        self.init(location: location, credentials: credentials, client: HTTPClient(options: options))
    }

    /// What compression did for this store's transfers so far.
    public var compressionStatistics: CompressionStatistics { counters.withLock { $0 } }

    /// Sends one signed request for `key` (nil: the bucket itself).
    func send(
        _ method: String, key: String?, headers extra: [(name: String, value: String)] = [],
        payloadHash: String = SigV4Signer.emptyPayloadHash, body: HTTPClient.Body = .none,
        sink: (any BlobSink)? = nil
    ) async throws -> HTTPClient.Response {
        let path = key.map { location.path(forKey: $0) } ?? location.bucketPath
        let headers = [("host", location.host), ("x-amz-content-sha256", payloadHash)] + extra
        let signed = signer.sign(method: method, path: path, headers: headers, payloadHash: payloadHash, date: .now())
        return try await client.send(
            method: method, url: location.url(path: path), headers: signed.headers, body: body, sink: sink,
            zstdMarker: S3Store.encodingHeader)
    }

    /// The error for a failed response: status, S3 code and message; 401/403 are `.unauthorized`.
    /// Never includes headers (the signature) or credentials.
    func failure(_ response: HTTPClient.Response, _ method: String, key: String?) -> CASError {
        let target = key.map { "s3://\(location.bucket)/\($0)" } ?? "s3://\(location.bucket)"
        var detail = "HTTP \(response.status)"
        if let parsed = S3ErrorResponse(xml: response.body) {
            detail += " \(parsed.code)"
            if !parsed.message.isEmpty { detail += ": \(parsed.message)" }
            if let region = parsed.region, region != location.region {
                detail += " (the bucket is in region \(region), not \(location.region))"
            }
        } else if method == "HEAD" {
            detail += " (HEAD responses have no error body)"
        }
        let code: CASError.Code = response.status == 401 || response.status == 403 ? .unauthorized : .remote
        return CASError(code, "s3 \(method) \(target) at \(location.scheme)://\(location.host): \(detail)")
    }
}
