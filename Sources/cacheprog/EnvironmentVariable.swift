import Glibc

/// Every environment variable cacheprog reads. A command-line flag wins over its
/// variable; the variable wins over the default.
enum EnvironmentVariable: String, CaseIterable {
    /// The local store directory (`--dir`).
    case dir = "CASBRIDGE_DIR"
    /// `1` prints a summary line at close (`-v`).
    case verbose = "CASBRIDGE_VERBOSE"
    /// Where to write the run's statistics as JSON (`--stats-file`).
    case statsFile = "CASBRIDGE_STATS_FILE"
    /// A directory that gets one JSON file per run with the run's statistics (`--stats-dir`).
    case statsDir = "CASBRIDGE_STATS_DIR"
    /// The remote store URL (`--remote`).
    case remote = "CASBRIDGE_REMOTE"
    /// Stores only read, one URL per line, asked after the remote (`--remote-read`).
    case remoteRead = "CASBRIDGE_REMOTE_READ"
    /// `readwrite` or `readonly` (`--remote-mode`).
    case remoteMode = "CASBRIDGE_REMOTE_MODE"
    /// Seconds close waits for uploads (`--upload-timeout`).
    case uploadTimeout = "CASBRIDGE_UPLOAD_TIMEOUT"
    /// Extra HTTP headers for `http(s)://` remotes, `Name: value` separated by newlines.
    case httpHeaders = "CASBRIDGE_HTTP_HEADERS"
    /// How long one remote request may take, e.g. `30s` (default 60s); HTTP requests that
    /// make no progress for min(this, 10s) fail too.
    case remoteTimeout = "CASBRIDGE_REMOTE_TIMEOUT"
    /// gRPC metadata for `grpc(s)://` remotes, `name: value` separated by newlines.
    case grpcHeaders = "CASBRIDGE_GRPC_HEADERS"
    /// Where to write the run's metrics in the Prometheus text format (`--metrics-file`).
    case metricsFile = "CASBRIDGE_METRICS_FILE"
    /// A Prometheus Pushgateway URL to push the run's metrics to at close (`--metrics-push`).
    case metricsPush = "CASBRIDGE_METRICS_PUSH"
    /// The warm manifest's name (`--manifest`); `off` disables it.
    case manifest = "CASBRIDGE_MANIFEST"
    /// The size cap of automatic trims (`--max-size`).
    case maxSize = "CASBRIDGE_MAX_SIZE"
    /// The age limit of automatic trims (`--max-age`).
    case maxAge = "CASBRIDGE_MAX_AGE"
    /// The least time between automatic trims (`--trim-interval`); `0` disables them.
    case trimInterval = "CASBRIDGE_TRIM_INTERVAL"
    /// The file holding the writer's signing key, one line `NAME:base64` (`--signing-key-file`).
    case signingKeyFile = "CASBRIDGE_SIGNING_KEY_FILE"
    /// The writer's signing key line itself, when no key file is given.
    case signingKey = "CASBRIDGE_SIGNING_KEY"
    /// The file of public keys a reader trusts, one `NAME:base64` a line (`--trusted-keys-file`).
    case trustedKeysFile = "CASBRIDGE_TRUSTED_KEYS_FILE"
    /// The public key lines a reader trusts, when no file is given.
    case trustedKeys = "CASBRIDGE_TRUSTED_KEYS"
    /// `signed` serves only remote entries signed by a trusted key; `any` (default) every one (`--trust`).
    case trust = "CASBRIDGE_TRUST"
    /// `off` writes downloaded blobs wholly through the page cache; by default (`on`) all
    /// but their first 32 KiB go straight to disk (`O_DIRECT`) where the file system allows it.
    case directWrites = "CASBRIDGE_DIRECT_WRITES"

    /// The variable's value, or nil when unset or empty.
    var value: String? {
        guard let raw = getenv(rawValue), raw.pointee != 0 else { return nil }
        return String(cString: raw)
    }

    /// Whether the variable is set to a true value (`1`, `true`, `yes`).
    var isTrue: Bool {
        guard let v = value?.lowercased() else { return false }
        return v == "1" || v == "true" || v == "yes" || v == "on"
    }
}
