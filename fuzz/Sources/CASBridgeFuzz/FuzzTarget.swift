import CASBridge
import Glibc

/// The fuzz targets, one per kind of outside input, named as fuzz/run.sh and fuzz/corpus/ name them.
package enum FuzzTarget: String, CaseIterable, Sendable {
    /// Request lines and put bodies, as the go command writes them to the helper's stdin.
    case request
    /// The local store's journal (`v1/index`) and its records.
    case indexJournal = "index-journal"
    /// The local store's sorted table (`v1/table`).
    case indexTable = "index-table"
    /// A warm manifest, decoded, re-encoded and planned from.
    case manifest
    /// A warm manifest and a segment's bytes split into the local store by it.
    case segment
    /// A gomod tree file.
    case gomodTree = "gomod-tree"
    /// go.mod, go.sum and `go mod download -json` output.
    case gomodText = "gomod-text"
    /// An ActionResult (REAPI and HTTP action-cache entries).
    case actionResult = "action-result"
    /// An S3 error document (libxml2).
    case s3Error = "s3-error"
    /// AWS shared credentials and config files.
    case awsConfig = "aws-config"
    /// Remote URLs of every scheme without gRPC.
    case remoteURL = "remote-url"
    /// Flag and environment values: sizes, durations, switches, header lists.
    case flags

    /// The target named by `CASBRIDGE_FUZZ_TARGET`; exits listing the names if there is none.
    static let selected: FuzzTarget = {
        if let name = getenv("CASBRIDGE_FUZZ_TARGET").map({ String(cString: $0) }), let t = FuzzTarget(rawValue: name) {
            return t
        }
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: " ")
        fail("set CASBRIDGE_FUZZ_TARGET to one of: \(names)")
    }()

    /// Feeds one input to the target's decoders.
    package func run(_ input: UnsafeRawBufferPointer) {
        switch self {
        case .request: FuzzTarget.request(input)
        case .indexJournal: FuzzTarget.indexJournal(input)
        case .indexTable: FuzzTarget.indexTable(input)
        case .manifest: FuzzTarget.manifest(input)
        case .segment: FuzzTarget.segment(input)
        case .gomodTree: FuzzTarget.gomodTree(input)
        case .gomodText: FuzzTarget.gomodText(input)
        case .actionResult: FuzzTarget.actionResult(input)
        case .s3Error: FuzzTarget.s3Error(input)
        case .awsConfig: FuzzTarget.awsConfig(input)
        case .remoteURL: FuzzTarget.remoteURL(input)
        case .flags: FuzzTarget.flags(input)
        }
    }

    /// A scratch directory for targets that need files, on tmpfs when there is one; removed at exit.
    static let scratch: String = {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        var template = Array("\(base)/casbridge-fuzz-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            fail("cannot create a scratch directory in \(base)")
        }
        atexit { FileSystem.removeTree(FuzzTarget.scratch) }
        return String(cString: made)
    }()

    /// Says why on stderr and exits: a setup problem, not a finding.
    static func fail(_ message: String) -> Never {
        let line = Array("\(message)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        exit(2)
    }

    /// Replaces the file at `path` with `bytes` and returns it open for reading and writing.
    static func file(_ path: String, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot create \(path)")
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(done))
            precondition(n > 0, "cannot write \(path)")
            done += n
        }
        return fd
    }

    /// Splits the input at the first `----` line: two documents from one input.
    static func halves(_ input: UnsafeRawBufferPointer) -> ([UInt8], [UInt8]) {
        let bytes = [UInt8](input)
        let separator = Array("\n----\n".utf8)
        guard bytes.count >= separator.count else { return (bytes, []) }
        for i in 0...(bytes.count - separator.count) where bytes[i..<i + separator.count].elementsEqual(separator) {
            return (Array(bytes[..<i]), Array(bytes[(i + separator.count)...]))
        }
        return (bytes, [])
    }
}
