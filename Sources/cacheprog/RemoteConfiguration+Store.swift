import CASBridge
import CASBridgeHTTP
import CASBridgeREAPI
import CASBridgeS3

extension RemoteConfiguration {
    /// The backend the URL's scheme names: each lives in its own library, and only the
    /// executable links them all.
    func makeStore() throws -> any CacheStore {
        let parsed = try RemoteURL(url)
        switch parsed.scheme {
        case "http", "https": return try HTTPCacheStore(configuration: self)
        case "s3": return try S3Store(configuration: self)
        case "grpc", "grpcs": return try REAPIStore(configuration: self)
        default:
            throw parsed.invalid("'\(parsed.scheme)' is an unsupported scheme; use http(s)://, s3:// or grpc(s)://")
        }
    }
}
