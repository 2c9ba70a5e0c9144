import ArgumentParser

/// The signing and trust flags of `serve` and `gomod` (docs/trust.md).
struct TrustOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Sign every entry uploaded with the key in this file, one line NAME:base64 as `cacheprog keygen` writes (env CASBRIDGE_SIGNING_KEY_FILE, or the line itself in CASBRIDGE_SIGNING_KEY).",
            valueName: "path"))
    var signingKeyFile: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Public keys to trust, one NAME:base64 a line (env CASBRIDGE_TRUSTED_KEYS_FILE, or the lines themselves in CASBRIDGE_TRUSTED_KEYS).",
            valueName: "path"))
    var trustedKeysFile: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "signed: a remote entry without a valid signature from a trusted key is a miss; any: every entry is used (env CASBRIDGE_TRUST; default any).",
            valueName: "mode"))
    var trust: String?

    /// The flags as plain settings.
    var settings: TrustSettings {
        TrustSettings(signingKeyFile: signingKeyFile, trustedKeysFile: trustedKeysFile, trust: trust)
    }
}
