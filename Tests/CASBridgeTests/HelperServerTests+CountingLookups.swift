import CASBridge
import CASBridgeTestSupport
import Synchronization

extension HelperServerTests {
    /// A store that counts the action-cache lookups it is asked for.
    final class CountingLookups: ForwardingStore, @unchecked Sendable {
        let lookups = Mutex(0)

        override func entry(for actionID: Digest) async throws -> ActionEntry? {
            lookups.withLock { $0 += 1 }
            return try await super.entry(for: actionID)
        }

        // The warm manifest's entry is asked for with its attachments.
        override func entryWithAttachments(for actionID: Digest) async throws -> (
            entry: ActionEntry, attached: [AttachedBlob]
        )? {
            lookups.withLock { $0 += 1 }
            return try await super.entryWithAttachments(for: actionID)
        }
    }
}
