extension RemoteConfiguration {
    /// Creates the backend the URL's scheme names.
    public func makeStore() throws -> any CacheStore {
        switch scheme {
        case "http", "https", "s3", "grpc", "grpcs":
            throw CASError(.invalidConfiguration, "remote \(scheme):// is not available in this build")
        default:
            throw CASError(
                .invalidConfiguration,
                "remote URL '\(url)' has an unknown scheme; use http(s)://, s3:// or grpc(s)://")
        }
    }
}
