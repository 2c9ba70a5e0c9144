public import CASBridge
public import Synchronization

/// A remote as the backends are: blobs in a local store, entries kept as the ActionResult
/// bytes `ActionMapping` writes (signatures and attachments included), which an attacker
/// can replace (`raw`).
public final class EncodingStore: ForwardingStore, @unchecked Sendable {
    /// The entries as stored, by ActionID.
    public let raw = Mutex([Digest: [UInt8]]())

    override public var name: String { "encoding" }

    override public func record(_ entry: ActionEntry, for actionID: Digest) async throws {
        raw.withLock { $0[actionID] = ActionMapping.actionResult(for: entry) }
    }

    override public func record(_ entry: ActionEntry, for actionID: Digest, attaching blobs: [AttachedBlob])
        async throws
    {
        raw.withLock { $0[actionID] = ActionMapping.actionResult(for: entry, attaching: blobs) }
    }

    override public func entry(for actionID: Digest) async throws -> ActionEntry? {
        raw.withLock { $0[actionID] }.flatMap { ActionMapping.entry(fromActionResult: $0) }
    }

    override public func entryWithAttachments(for actionID: Digest) async throws -> (
        entry: ActionEntry, attached: [AttachedBlob]
    )? {
        guard let bytes = raw.withLock({ $0[actionID] }), let entry = ActionMapping.entry(fromActionResult: bytes)
        else { return nil }
        return (entry, ActionMapping.attachments(fromActionResult: bytes, entry: entry))
    }

    /// Replaces the entry of `actionID` with `entry`, as written (no signing).
    public func forge(_ actionID: Digest, _ entry: ActionEntry) {
        raw.withLock { $0[actionID] = ActionMapping.actionResult(for: entry) }
    }
}
