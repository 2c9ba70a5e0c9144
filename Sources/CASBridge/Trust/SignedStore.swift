/// A remote store seen through the trust settings: entries it records are signed by the
/// writer's key (if any), and with `--trust signed` an entry read without a valid signature
/// from a trusted key is a miss, reported to an `UntrustedEntryReport`. Built around each
/// remote store by the executable, so every path that reads entries (the get path, the
/// miss streak's lookups, the warm manifest's entry, `--remote-read` layers, gomod trees)
/// sees only verified ones. Blobs pass through: they are verified against their digests.
public final class SignedStore: CacheStore, CompressionReporting {
    /// The wrapped store.
    public let inner: any CacheStore
    private let signer: EntrySigner?
    private let trusted: TrustedKeys
    private let mode: TrustMode
    private let report: UntrustedEntryReport

    /// Wraps `inner`: signs with `signer`; with `mode` `.signed`, serves only entries that
    /// `trusted` (to which the signer's own key is added) trusts.
    public init(
        _ inner: any CacheStore, signer: EntrySigner?, trusted: TrustedKeys, mode: TrustMode,
        report: UntrustedEntryReport
    ) {
        self.inner = inner
        self.signer = signer
        var trusted = trusted
        if let signer { trusted.add(signer) }
        self.trusted = trusted
        self.mode = mode
        self.report = report
    }

    public var name: String { inner.name }

    public var compressionStatistics: CompressionStatistics {
        (inner as? any CompressionReporting)?.compressionStatistics ?? CompressionStatistics()
    }

    /// `entry` signed for `actionID`, if there is a key.
    private func signed(_ entry: ActionEntry, for actionID: Digest) throws -> ActionEntry {
        guard let signer else { return entry }
        var signed = entry
        signed.signatures = [try signer.sign(entry, for: actionID)]
        return signed
    }

    /// Whether `entry`, read for `actionID`, may be served; reports it if not.
    private func admits(_ entry: ActionEntry, for actionID: Digest) -> Bool {
        guard mode == .signed, !trusted.trusts(entry, for: actionID) else { return true }
        report.refused(actionID, entry: entry, store: inner.name)
        return false
    }

    public func entry(for actionID: Digest) async throws -> ActionEntry? {
        guard let entry = try await inner.entry(for: actionID), admits(entry, for: actionID) else { return nil }
        return entry
    }

    public func entryWithAttachments(for actionID: Digest) async throws -> (
        entry: ActionEntry, attached: [AttachedBlob]
    )? {
        guard let found = try await inner.entryWithAttachments(for: actionID), admits(found.entry, for: actionID)
        else { return nil }
        return found
    }

    public func record(_ entry: ActionEntry, for actionID: Digest) async throws {
        try await inner.record(signed(entry, for: actionID), for: actionID)
    }

    public func record(_ entry: ActionEntry, for actionID: Digest, attaching blobs: [AttachedBlob]) async throws {
        try await inner.record(signed(entry, for: actionID), for: actionID, attaching: blobs)
    }

    public func missingBlobs(_ digests: [Digest]) async throws -> Set<Digest> {
        try await inner.missingBlobs(digests)
    }

    public func missingBlobs(sized blobs: [(digest: Digest, size: Int64)]) async throws -> Set<Digest> {
        try await inner.missingBlobs(sized: blobs)
    }

    public func readBlob(_ digest: Digest, size: Int64, to sink: any BlobSink) async throws -> Bool {
        try await inner.readBlob(digest, size: size, to: sink)
    }

    public func writeBlob(_ digest: Digest, size: Int64, from path: String) async throws {
        try await inner.writeBlob(digest, size: size, from: path)
    }

    public func compressesSegments() async -> Bool {
        await inner.compressesSegments()
    }

    public func openConnections(_ count: Int) async {
        await inner.openConnections(count)
    }
}
