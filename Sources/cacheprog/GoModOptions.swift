import ArgumentParser
import CASBridge
import GoModSandbox
import Logging

/// Options shared by the `gomod` subcommands: the store, the remote and the tree shape.
struct GoModOptions: ParsableArguments {
    @OptionGroup var store: StoreOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Remote store URL (env CASBRIDGE_REMOTE): trees and keys are fetched from it and pushed to it.",
            valueName: "url"))
    var remote: String?

    @Option(
        name: .long,
        help: ArgumentHelp("readwrite or readonly (env CASBRIDGE_REMOTE_MODE; default readwrite).", valueName: "mode"))
    var remoteMode: String?

    @OptionGroup var trust: TrustOptions

    @Flag(name: .long, help: "Skip TLS certificate verification of the remote. For tests only.")
    var insecure = false

    @Flag(name: .long, help: "Keep the module .zip files in the tree (not needed for builds).")
    var withZips = false

    @Flag(name: .long, help: "Never draw progress, even on a terminal.")
    var quiet = false

    func makeCache() throws -> GoModCache {
        let local = try store.openStore()
        // Key → tree records are signed and verified like the helper's entries.
        let trust = try self.trust.settings.resolve()
        var remoteStore: (any CacheStore)? = nil
        var uploads = true
        if let url = remote ?? EnvironmentVariable.remote.value {
            let modeText = remoteMode ?? EnvironmentVariable.remoteMode.value ?? "readwrite"
            guard let mode = RemoteMode(rawValue: modeText) else {
                throw ValidationError("--remote-mode: '\(modeText)' is not readwrite or readonly")
            }
            uploads = mode == .readwrite
            var configuration = RemoteConfiguration(url: url)
            configuration.insecure = insecure
            do {
                if let h = EnvironmentVariable.httpHeaders.value {
                    configuration.httpHeaders = try RemoteConfiguration.parseHeaders(h)
                }
                if let h = EnvironmentVariable.grpcHeaders.value {
                    configuration.grpcHeaders = try RemoteConfiguration.parseHeaders(h)
                }
                let report = UntrustedEntryReport(statistics: nil, logger: Logger(label: "cacheprog"))
                remoteStore = trust.wrap(try configuration.makeStore(), report: report)
            } catch {
                throw ValidationError("--remote: \(error)")
            }
        }
        return GoModCache(
            local: local, remote: remoteStore, uploads: uploads, withZips: withZips,
            showProgress: quiet ? false : nil)
    }
}
