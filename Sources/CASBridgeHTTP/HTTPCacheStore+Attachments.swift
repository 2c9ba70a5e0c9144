public import CASBridge

extension HTTPCacheStore {
    /// Records `entry` with `blobs` carried in its ActionResult (`ActionMapping.actionResult(for:attaching:)`).
    public func record(_ entry: ActionEntry, for actionID: Digest, attaching blobs: [AttachedBlob]) async throws {
        guard !blobs.isEmpty else { return try await record(entry, for: actionID) }
        try await putActionResult(ActionMapping.actionResult(for: entry, attaching: blobs), for: actionID)
    }

    /// The entry recorded for `actionID` and the blobs its ActionResult carries.
    public func entryWithAttachments(for actionID: Digest) async throws -> (
        entry: ActionEntry, attached: [AttachedBlob]
    )? {
        guard let (entry, body) = try await actionResult(for: actionID) else { return nil }
        return (entry, ActionMapping.attachments(fromActionResult: body, entry: entry))
    }
}
