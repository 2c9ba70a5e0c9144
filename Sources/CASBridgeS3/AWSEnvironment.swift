import CASBridge
import Glibc

/// Where the AWS settings come from: environment variables and the home directory.
/// Tests pass their own; cacheprog uses `AWSEnvironment.process`.
public struct AWSEnvironment: Sendable {
    /// The value of a variable, or nil when unset or empty.
    public var variable: @Sendable (String) -> String?
    /// The home directory (for `~/.aws/…`).
    public var home: String

    /// Creates an environment from a lookup function and a home directory.
    public init(home: String, variable: @escaping @Sendable (String) -> String?) {
        self.home = home
        self.variable = variable
    }

    /// Creates an environment from a fixed table of variables.
    public init(home: String, variables: [String: String]) {
        self.init(home: home) { name in
            guard let v = variables[name], !v.isEmpty else { return nil }
            return v
        }
    }

    /// This process's environment.
    public static var process: AWSEnvironment {
        AWSEnvironment(home: FileSystem.homeDirectory) { name in
            guard let raw = getenv(name), raw.pointee != 0 else { return nil }
            return String(cString: raw)
        }
    }

    /// The profile to use: `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`, else `default`.
    public var profile: String {
        variable("AWS_PROFILE") ?? variable("AWS_DEFAULT_PROFILE") ?? "default"
    }

    /// The shared credentials file: `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`.
    public var credentialsFile: String {
        expand(variable("AWS_SHARED_CREDENTIALS_FILE") ?? "~/.aws/credentials")
    }

    /// The shared config file: `AWS_CONFIG_FILE` or `~/.aws/config`.
    public var configFile: String {
        expand(variable("AWS_CONFIG_FILE") ?? "~/.aws/config")
    }

    func expand(_ path: String) -> String {
        if path == "~" { return home }
        if path.hasPrefix("~/") { return home + path.dropFirst(1) }
        return path
    }

    /// The settings of the current profile: the credentials file's `[NAME]` section over
    /// the config file's `[profile NAME]` (or `[default]`) section.
    public var profileSettings: (values: [String: String], sources: [String: String]) {
        let name = profile
        var values: [String: String] = [:]
        var sources: [String: String] = [:]
        if let config = INIFile(path: configFile) {
            let section =
                name == "default" ? (config["default"] ?? config["profile default"]) : config["profile \(name)"]
            for (k, v) in section ?? [:] {
                values[k] = v
                sources[k] = "profile \(name) in \(configFile)"
            }
        }
        if let credentials = INIFile(path: credentialsFile), let section = credentials[name] {
            for (k, v) in section {
                values[k] = v
                sources[k] = "profile \(name) in \(credentialsFile)"
            }
        }
        return (values, sources)
    }
}
