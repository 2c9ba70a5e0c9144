import CASBridge

extension AWSCredentials {
    /// Finds credentials the way the AWS SDKs do: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`
    /// and `AWS_SESSION_TOKEN` first, then the profile (`AWS_PROFILE`, default `default`) in the
    /// shared credentials file, then in the shared config file.
    public static func resolve(_ environment: AWSEnvironment = .process) throws -> AWSCredentials {
        let id = environment.variable("AWS_ACCESS_KEY_ID")
        let secret = environment.variable("AWS_SECRET_ACCESS_KEY")
        if id != nil || secret != nil {
            guard let id, let secret else {
                throw CASError(
                    .invalidConfiguration,
                    "AWS credentials in the environment are incomplete: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                )
            }
            return AWSCredentials(
                accessKeyID: id, secretAccessKey: secret, sessionToken: environment.variable("AWS_SESSION_TOKEN"),
                source: "environment")
        }
        let (values, sources) = environment.profileSettings
        let profile = environment.profile
        if let id = values["aws_access_key_id"], !id.isEmpty {
            guard let secret = values["aws_secret_access_key"], !secret.isEmpty else {
                throw CASError(
                    .invalidConfiguration,
                    "AWS profile '\(profile)' has aws_access_key_id but no aws_secret_access_key (\(sources["aws_access_key_id"] ?? ""))"
                )
            }
            let token = values["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
            return AWSCredentials(
                accessKeyID: id, secretAccessKey: secret, sessionToken: token,
                source: sources["aws_access_key_id"] ?? "profile \(profile)")
        }
        throw CASError(
            .invalidConfiguration,
            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add profile '\(profile)' to \(environment.credentialsFile) or \(environment.configFile)"
        )
    }
}
