public import CASBridge

/// One named entry of a tree blob: a file, an executable file or a directory.
public struct TreeEntry: Hashable, Sendable {
    /// What an entry is, and its letter in the encoding.
    public enum Kind: UInt8, Sendable {
        /// A regular file, materialised read-only (0444).
        case file = 0x66  // "f"
        /// A regular file with the executable bit, materialised as 0555.
        case executable = 0x78  // "x"
        /// A directory: the digest and size are those of its own tree blob.
        case directory = 0x64  // "d"
    }

    /// What the entry is.
    public var kind: Kind
    /// The size in bytes of the file, or of the directory's tree blob.
    public var size: Int64
    /// The SHA-256 of the file, or of the directory's tree blob.
    public var digest: Digest
    /// The entry's name: no `/`, newline or NUL, not `.` or `..`.
    public var name: String

    /// Creates an entry.
    public init(kind: Kind, size: Int64, digest: Digest, name: String) {
        self.kind = kind
        self.size = size
        self.digest = digest
        self.name = name
    }

    /// Whether `name` can be an entry name.
    public static func isValidName(_ name: String) -> Bool {
        if name.isEmpty || name == "." || name == ".." { return false }
        return !name.utf8.contains { $0 == 0x2F || $0 == 0x0A || $0 == 0 }
    }
}
