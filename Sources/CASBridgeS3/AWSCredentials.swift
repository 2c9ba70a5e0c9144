import CASBridge

/// AWS credentials: an access key, its secret and an optional session token.
///
/// Its description never shows the secret or the token.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible {
    /// The access key ID (not secret; it appears in signed requests).
    public var accessKeyID: String
    /// The secret access key.
    public var secretAccessKey: String
    /// The session token of temporary credentials.
    public var sessionToken: String?
    /// Where the credentials came from, for messages (`environment`, `profile NAME in PATH`).
    public var source: String

    /// Creates credentials.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, source: String = "explicit")
    {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.source = source
    }

    public var description: String {
        "access key \(accessKeyID) (secret not shown) from \(source)"
    }
}
