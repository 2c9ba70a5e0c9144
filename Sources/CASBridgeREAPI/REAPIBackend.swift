import CASBridge

/// Registers the REAPI gRPC backend with `RemoteBackends`.
public enum REAPIBackend {
    /// The URL schemes this backend serves.
    public static let schemes = ["grpc", "grpcs"]

    /// Registers `REAPIStore` for `grpc://` and `grpcs://`. Cheap: nothing is connected
    /// until a store makes its first call.
    public static func register() {
        RemoteBackends.register(schemes: schemes) { configuration in
            try REAPIStore(configuration: configuration)
        }
    }
}
