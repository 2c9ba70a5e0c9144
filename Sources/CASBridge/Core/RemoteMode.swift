/// Whether the helper writes to the remote store or only reads from it.
public enum RemoteMode: String, Sendable, CaseIterable {
    /// Read hits from the remote and upload every put (CI).
    case readwrite
    /// Read hits from the remote, never write (developers' machines).
    case readonly
}
