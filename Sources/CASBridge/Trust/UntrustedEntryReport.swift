public import Logging
import Synchronization

/// Where `SignedStore`s report the entries they refused: counted in the run's statistics
/// (`untrustedEntries`) and said once on stderr, naming the first one. One report is
/// shared by every layer of a remote.
public final class UntrustedEntryReport: Sendable {
    private let statistics: HelperStatistics?
    private let logger: Logger
    private let said = Mutex(false)

    /// Reports into `statistics` (if any) and `logger`.
    public init(statistics: HelperStatistics?, logger: Logger = Logger(label: "cacheprog")) {
        self.statistics = statistics
        self.logger = logger
    }

    /// Notes that `store` held an entry for `actionID` without a valid trusted signature.
    package func refused(_ actionID: Digest, entry: ActionEntry, store: String) {
        statistics?.add(.untrustedEntries)
        let first = said.withLock { said in
            defer { said = true }
            return !said
        }
        guard first else { return }
        let signers = entry.signatures.map(\.keyName)
        let why =
            signers.isEmpty
            ? "it is unsigned" : "no signature (by \(signers.joined(separator: ", "))) verifies with a trusted key"
        logger.warning(
            "cacheprog: remote \(store): the entry of action \(actionID) is not trusted (\(why)); untrusted entries are misses (counted as untrustedEntries)"
        )
    }
}
