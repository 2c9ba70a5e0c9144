/// A store that keeps each action entry as a REAPI `ActionResult` message under the action's key
/// (`ActionMapping.actionKey`), as the bazel-remote HTTP layout and the S3 layout do. Such a store carries
/// attachments (and signatures) inside the message, so recording and reading them is written once, here.
public protocol ActionResultStore: ActionCache {
    /// The entry recorded for `actionID` and the ActionResult bytes it came in; nil when there is none or it
    /// does not decode (another writer's, or damaged).
    func actionResult(for actionID: Digest) async throws -> (ActionEntry, [UInt8])?

    /// Stores `bytes` as the ActionResult of `actionID`.
    func putActionResult(_ bytes: [UInt8], for actionID: Digest) async throws
}

extension ActionResultStore {
    /// Records `entry` with `blobs` carried in its ActionResult (`ActionMapping.actionResult(for:attaching:)`).
    public func record(_ entry: ActionEntry, for actionID: Digest, attaching blobs: [AttachedBlob]) async throws {
        guard !blobs.isEmpty else { return try await record(entry, for: actionID) }
        try await putActionResult(ActionMapping.actionResult(for: entry, attaching: blobs), for: actionID)
    }

    /// The entry recorded for `actionID` and the blobs its ActionResult carries (unverified).
    public func entryWithAttachments(for actionID: Digest) async throws -> (
        entry: ActionEntry, attached: [AttachedBlob]
    )? {
        guard let (entry, body) = try await actionResult(for: actionID) else { return nil }
        return (entry, ActionMapping.attachments(fromActionResult: body, entry: entry))
    }
}
