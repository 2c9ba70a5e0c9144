import Glibc
import Synchronization

/// The local content-addressed store: an append-only cache directory shared by any
/// number of processes.
///
/// Layout under `directory/v1`: `blobs/XX/<sha256 hex>` (read-only, never rewritten once
/// published), the index in two parts — `table`, sorted and read in place (`IndexTable`),
/// and `index`, a short append-only journal of newer records (`IndexRecord`) that a
/// compaction folds into the table once it passes `journalLimit` records — `tmp/`, `lock`
/// (shared while appending, exclusive while compacting or trimming) and `runs.log`.
/// Opening the store and looking an entry up cost the same at ten entries or ten million.
public final class LocalStore: Sendable {
    /// The directory the store was opened at.
    public let directory: String
    let root: String
    let blobRoot: String
    let tempRoot: String
    /// The journal: recent records, appended.
    let indexPath: String
    /// The sorted table of older records.
    let tablePath: String
    let lockFD: Int32
    /// Touched by every trim; automatic trims wait for it to age.
    let trimMarkerPath: String
    /// Journal records past which a compaction folds the journal into the table.
    let journalLimit: Int
    let state: Mutex<State>

    /// A local hit is re-recorded as used once its last recorded use is this old.
    static let touchInterval = Duration.seconds(10 * 60)
    /// A blob whose stamp was found unchanged this recently is served without another look.
    static let checkFreshness = Duration.seconds(10)
    /// Entries used within this window are never trimmed.
    public static let protectionWindow = Duration.seconds(60 * 60)
    /// The default `journalLimit`: 4,096 records, 512 KiB read at every start.
    public static let defaultJournalLimit = 4096

    /// The default directory: `$XDG_CACHE_HOME/casbridge`, else `~/.cache/casbridge`.
    public static var defaultDirectory: String {
        if let xdg = getenv("XDG_CACHE_HOME"), xdg.pointee != 0 {
            let path = String(cString: xdg)
            if path.hasPrefix("/") { return "\(path)/casbridge" }
        }
        return "\(FileSystem.homeDirectory)/.cache/casbridge"
    }

    /// Opens (creating if needed) the store in `directory`. The journal is read on first use, so
    /// a helper answers the go command's first message before it reads anything.
    public init(directory: String, journalLimit: Int = LocalStore.defaultJournalLimit) throws {
        self.directory = FileSystem.absolute(directory)
        self.journalLimit = max(1, journalLimit)
        root = "\(self.directory)/v1"
        blobRoot = "\(root)/blobs"
        tempRoot = "\(root)/tmp"
        indexPath = "\(root)/index"
        tablePath = "\(root)/table"
        trimMarkerPath = "\(root)/trimmed"
        let fd: Int32
        do {
            fd = try FileSystem.open(indexPath, O_RDWR | O_APPEND | O_CREAT)
        } catch {
            do {
                try FileSystem.makeDirectories(blobRoot)
                try FileSystem.makeDirectories(tempRoot)
                fd = try FileSystem.open(indexPath, O_RDWR | O_APPEND | O_CREAT)
                // A new store has nothing to trim for a while: its first close need not look.
                if let marker = try? FileSystem.open(trimMarkerPath, O_WRONLY | O_CREAT) { close(marker) }
            } catch {
                throw CASError(.io, "cannot open the local store at \(self.directory)", cause: error as? SystemError)
            }
        }
        do {
            lockFD = try FileSystem.open("\(root)/lock", O_RDWR | O_CREAT)
        } catch {
            close(fd)
            throw CASError(.io, "cannot open the lock file of \(root)", cause: error as? SystemError)
        }
        // The journal is opened before the table: a compaction renames the table first, so
        // this never pairs a new, emptied journal with the table from before it.
        state = Mutex(State(journalFD: fd, table: IndexTable.open(tablePath)))
    }

    deinit {
        state.withLock { _ = close($0.journalFD) }
        close(lockFD)
    }

    /// The path of blob `digest` in this store (whether or not it exists).
    public func blobPath(_ digest: Digest) -> String {
        let hex = digest.hex
        return "\(blobRoot)/\(hex.prefix(2))/\(hex)"
    }

    /// The number of entries: the table's plus the journal's that the table lacks.
    public var entryCount: Int {
        state.withLock { st in
            refresh(&st)
            let table = st.table
            return (table?.count ?? 0) + st.journal.keys.count { table?.find($0) == nil }
        }
    }

    /// Whether the store has no entries at all (as of this process's last look).
    public var isEmpty: Bool {
        state.withLock { st in
            if !st.journalRead { refresh(&st) }
            return st.journal.isEmpty && (st.table?.count ?? 0) == 0
        }
    }

    func lockShared() { while flock(lockFD, LOCK_SH) != 0 && errno == EINTR {} }
    func unlock() { flock(lockFD, LOCK_UN) }

    /// Moves a corrupt blob out of the way so it is never served again.
    func quarantine(_ path: String) {
        let aside = "\(tempRoot)/corrupt-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        if Glibc.rename(path, aside) == 0 { unlink(aside) }
    }
}
