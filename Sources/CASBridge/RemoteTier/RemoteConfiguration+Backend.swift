import Synchronization

/// Creates a remote store from its configuration.
public typealias RemoteStoreFactory = @Sendable (RemoteConfiguration) throws -> any CacheStore

/// The backends by URL scheme. Backends in this library register themselves here;
/// others (the REAPI gRPC backend) are registered by the executable at start-up.
public enum RemoteBackends {
    private static let factories = Mutex<[String: RemoteStoreFactory]>([:])

    /// Registers `factory` for each of `schemes` (lowercase, without `://`).
    public static func register(schemes: [String], factory: @escaping RemoteStoreFactory) {
        factories.withLock { table in
            for scheme in schemes { table[scheme] = factory }
        }
    }

    /// The factory for `scheme`, if one is registered.
    public static func factory(for scheme: String) -> RemoteStoreFactory? {
        factories.withLock { $0[scheme] }
    }

    /// Registers the backends this library provides.
    static func registerBuiltins() {
        // http(s) and s3 register here as they are added.
        register(schemes: ["s3"]) { try S3Store(configuration: $0) }
        register(schemes: ["http", "https"]) { try HTTPCacheStore(configuration: $0) }
    }

    static let builtinsRegistered: Bool = {
        registerBuiltins()
        return true
    }()
}

extension RemoteConfiguration {
    /// Creates the backend the URL's scheme names.
    public func makeStore() throws -> any CacheStore {
        _ = RemoteBackends.builtinsRegistered
        guard let factory = RemoteBackends.factory(for: scheme) else {
            throw CASError(
                .invalidConfiguration,
                "remote URL '\(redactedURL)' has an unsupported scheme; use http(s)://, s3:// or grpc(s)://")
        }
        return try factory(self)
    }

    /// The URL with any userinfo password replaced by `***`, for messages.
    public var redactedURL: String {
        guard let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://") else { return url }
        let restStart = url.index(colon, offsetBy: 3)
        let rest = url[restStart...]
        let hostEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        guard let at = rest[..<hostEnd].lastIndex(of: "@") else { return url }
        let userinfo = rest[..<at]
        let user = userinfo.split(separator: ":", maxSplits: 1).first ?? ""
        return url[..<restStart] + user + ":***" + rest[at...]
    }
}
