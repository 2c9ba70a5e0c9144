import CASBridge
import CASBridgeHTTP
import CASBridgeREAPI
import CASBridgeS3

extension RemoteConfiguration {
    /// The backend the URL's scheme names: each lives in its own library, and only the
    /// executable links them all.
    func makeStore() throws -> any CacheStore {
        switch scheme {
        case "http", "https": return try HTTPCacheStore(configuration: self)
        case "s3": return try S3Store(configuration: self)
        case "grpc", "grpcs": return try REAPIStore(configuration: self)
        default:
            throw CASError(
                .invalidConfiguration,
                "remote URL '\(redactedURL)' has an unsupported scheme; use http(s)://, s3:// or grpc(s)://")
        }
    }
}
