/// Something the upload queue sends to the remote.
package enum Upload: Sendable {
    /// A put's blob (unless the remote holds it), then its action entry.
    case blob(actionID: Digest, entry: ActionEntry, path: String)
    /// This run's warm manifest: its new segments, then the manifest blob and its entry.
    case manifest(Manifest)

    /// A warm manifest to write at close.
    package struct Manifest: Sendable {
        /// The manifest's ActionID (`WarmManifest.actionID(named:)`).
        var actionID: Digest
        var plan: WarmManifest.Plan
        /// The store the segments' pieces are read from.
        var local: LocalStore
        /// When segments still being written are given up, so the manifest gets written.
        var segmentDeadline: ContinuousClock.Instant
    }
}
