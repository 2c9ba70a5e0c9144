/// What `LocalStore.verify` found, and with `repair`, what it removed.
///
/// Each index record is counted at most once, in the first of: its blob is missing, its
/// blob is damaged, its blob's size differs from the record's.
public struct VerifyReport: Sendable, Equatable, Codable {
    /// Blob files hashed.
    public var blobsChecked = 0
    /// Bytes read while hashing.
    public var bytesHashed: Int64 = 0
    /// Blobs whose SHA-256 is not their name (bit flips, truncation).
    public var damagedBlobs = 0
    /// Index records checked (one per ActionID).
    public var recordsChecked = 0
    /// Records whose blob does not exist.
    public var recordsMissingBlob = 0
    /// Records whose blob is damaged.
    public var recordsDamagedBlob = 0
    /// Records whose blob exists, is intact, but has another size than recorded.
    public var recordsWrongSize = 0
    /// Index records (journal or table) that fail their magic or checksum: never used, each
    /// a miss. A torn or garbage stretch of the journal counts as the records it spans.
    public var damagedIndexRecords = 0
    /// Whether the table is there but unusable (header, size) or its fan-out is wrong: lookups
    /// of its entries may miss.
    public var damagedTable = false
    /// Temporary files left by a crash: in blob directories older than an hour, in `tmp/`
    /// older than a day.
    public var staleTempFiles = 0
    /// Whether this was a repair.
    public var repaired = false
    /// Damaged blobs removed by the repair.
    public var blobsRemoved = 0
    /// Stale temporary files removed by the repair.
    public var tempFilesRemoved = 0
    /// Records dropped from the index by the repair.
    public var recordsDropped = 0
    /// Whether the repair rewrote the index (table and journal), leaving out damaged records.
    public var indexRewritten = false
    /// Paths of the damaged blobs (at most `VerifyReport.listLimit`).
    public var damagedPaths: [String] = []

    /// How many damaged paths the report lists.
    public static let listLimit = 100

    public init() {}

    /// Whether anything damaged or left over was found (before any repair).
    public var foundDamage: Bool {
        damagedBlobs + recordsMissingBlob + recordsDamagedBlob + recordsWrongSize + staleTempFiles
            + damagedIndexRecords > 0 || damagedTable
    }
}
