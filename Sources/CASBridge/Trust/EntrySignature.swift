/// An Ed25519 signature over one action entry and its ActionID, by the key named
/// `keyName` (docs/trust.md). It travels inside the entry (`ActionMapping`), so every
/// backend carries it unchanged.
public struct EntrySignature: Hashable, Sendable {
    /// The signing key's name, as in its key lines (`NAME:base64`).
    public var keyName: String
    /// The 64-byte signature.
    public var bytes: [UInt8]

    /// Creates a signature.
    public init(keyName: String, bytes: [UInt8]) {
        self.keyName = keyName
        self.bytes = bytes
    }

    /// Sets signatures of entries apart from any other message a key might sign.
    static let domain = Array("casbridge-entry-signature-v1\0".utf8)

    /// The bytes signed: the domain, the ActionID (32 bytes), the OutputID (32 bytes), the
    /// size and the put time in nanoseconds (each 8 bytes, little-endian), then the key's name
    /// in UTF-8. Only the name varies in length, and it comes last.
    package static func message(actionID: Digest, entry: ActionEntry, keyName: String) -> [UInt8] {
        var m = domain
        m.reserveCapacity(domain.count + 80 + keyName.utf8.count)
        m += actionID.bytes
        m += entry.outputID.bytes
        withUnsafeBytes(of: UInt64(bitPattern: entry.size).littleEndian) { m += $0 }
        withUnsafeBytes(of: UInt64(bitPattern: entry.time.nanoseconds).littleEndian) { m += $0 }
        m += Array(keyName.utf8)
        return m
    }
}
