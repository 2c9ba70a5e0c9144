import ArgumentParser
import CASBridge
import Logging

/// The signing and trust settings of `serve` and `gomod` (docs/trust.md): flags as plain
/// values (nil: not given), resolved with their environment variables by `resolve()`.
struct TrustSettings: Equatable {
    /// `--signing-key-file`.
    var signingKeyFile: String?
    /// `--trusted-keys-file`.
    var trustedKeysFile: String?
    /// `--trust`.
    var trust: String?

    /// What the settings resolve to.
    struct Resolved {
        var signer: EntrySigner?
        var trusted: TrustedKeys
        var mode: TrustMode

        /// Whether stores need a `SignedStore` around them.
        var isActive: Bool { signer != nil || mode == .signed }

        /// `store` signed and verified as configured.
        func wrap(_ store: any CacheStore, report: UntrustedEntryReport) -> any CacheStore {
            guard isActive else { return store }
            return SignedStore(store, signer: signer, trusted: trusted, mode: mode, report: report)
        }
    }

    /// The signing key (flag, then `CASBRIDGE_SIGNING_KEY_FILE`, then the key line in
    /// `CASBRIDGE_SIGNING_KEY`), the trusted keys (flag, then `CASBRIDGE_TRUSTED_KEYS_FILE`, then
    /// the lines in `CASBRIDGE_TRUSTED_KEYS`) and the mode (flag, then `CASBRIDGE_TRUST`, then
    /// `any`). `signed` without any key to trust is a usage error; errors never quote a key.
    func resolve() throws -> Resolved {
        let modeText = trust ?? EnvironmentVariable.trust.value ?? "any"
        guard let mode = TrustMode(rawValue: modeText) else {
            throw ValidationError("--trust: '\(modeText)' is not signed or any")
        }
        var signer: EntrySigner? = nil
        var trusted = TrustedKeys()
        do {
            if let path = signingKeyFile ?? EnvironmentVariable.signingKeyFile.value {
                signer = try EntrySigner(file: path)
            } else if let line = EnvironmentVariable.signingKey.value {
                signer = try EntrySigner(line: line, source: EnvironmentVariable.signingKey.rawValue)
            }
        } catch {
            throw ValidationError("--signing-key-file: \(error)")
        }
        do {
            if let path = trustedKeysFile ?? EnvironmentVariable.trustedKeysFile.value {
                trusted = try TrustedKeys(file: path)
            } else if let text = EnvironmentVariable.trustedKeys.value {
                trusted = try TrustedKeys(parsing: text, source: EnvironmentVariable.trustedKeys.rawValue)
            }
        } catch {
            throw ValidationError("--trusted-keys-file: \(error)")
        }
        if mode == .signed, trusted.isEmpty, signer == nil {
            throw ValidationError(
                "--trust signed: no key to trust; give --trusted-keys-file, CASBRIDGE_TRUSTED_KEYS or a signing key")
        }
        return Resolved(signer: signer, trusted: trusted, mode: mode)
    }
}
