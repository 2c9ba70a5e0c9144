public import Glibc

/// What a blob file looked like when its content was last verified: if its size,
/// change time and inode are unchanged, its content is too.
public struct BlobStamp: Hashable, Sendable {
    /// File size in bytes.
    public var size: Int64
    /// Status change time in nanoseconds since the epoch.
    public var changeTime: Int64
    /// The file's inode number.
    public var inode: UInt64

    /// Creates a stamp.
    public init(size: Int64, changeTime: Int64, inode: UInt64) {
        self.size = size
        self.changeTime = changeTime
        self.inode = inode
    }

    /// The stamp of a file's current status.
    public init(_ st: stat) {
        size = Int64(st.st_size)
        changeTime = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
        inode = UInt64(st.st_ino)
    }
}
