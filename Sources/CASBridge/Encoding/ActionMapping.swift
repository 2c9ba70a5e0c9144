/// Go's ActionID → a synthetic REAPI `Action`, and `ActionEntry` ↔ REAPI `ActionResult`
/// (`build.bazel.remote.execution.v2`), so that one entry is readable over the
/// bazel-remote HTTP layout and over the REAPI gRPC protocol.
///
/// The protobuf encoding is written by hand (`ProtoWriter`, `ProtoReader`), so the core and
/// the HTTP and S3 backends link no protobuf library: fields in ascending number order,
/// default values omitted — the deterministic encoding Go's and Python's protobuf libraries
/// produce. Field numbers come from
/// `build/bazel/remote/execution/v2/remote_execution.proto`.
public enum ActionMapping {
    /// The `Action.salt` that sets these synthetic actions apart from real ones.
    public static let salt = "casbridge/v1"
    /// The first argument of the synthetic `Command`.
    public static let commandName = "casbridge-go-action"
    /// The `OutputFile.path` of the one output.
    public static let outputPath = "output"
    /// The `ExecutedActionMetadata.worker` written with each result.
    public static let worker = "casbridge"

    /// `Command{arguments: ["casbridge-go-action", <ActionID hex>]}` serialized.
    public static func command(for actionID: Digest) -> [UInt8] {
        var w = ProtoWriter()
        w.string(1, commandName, always: true)  // arguments
        w.string(1, actionID.hex, always: true)
        return w.bytes
    }

    /// `Action{command_digest: digest(Command), input_root_digest: digest(empty Directory), salt}`
    /// serialized. The empty `Directory` serializes to zero bytes.
    public static func action(for actionID: Digest) -> [UInt8] {
        let command = command(for: actionID)
        var w = ProtoWriter()
        w.message(1) { writeDigest(&$0, SHA256.hash(command), size: Int64(command.count)) }  // command_digest
        w.message(2) { writeDigest(&$0, .empty, size: 0) }  // input_root_digest
        w.bytes(9, Array(salt.utf8))  // salt
        return w.bytes
    }

    /// The SHA-256 and size of `action(for:)`: the action cache key.
    public static func actionKey(for actionID: Digest) -> (digest: Digest, size: Int64) {
        let action = action(for: actionID)
        return (SHA256.hash(action), Int64(action.count))
    }

    /// `ActionResult{output_files: [OutputFile{path: "output", digest: (OutputID, size)}],
    /// execution_metadata: ExecutedActionMetadata{worker: "casbridge", worker_completed_timestamp: put time,
    /// auxiliary_metadata: the entry's signatures}}` serialized.
    public static func actionResult(for entry: ActionEntry) -> [UInt8] {
        actionResult(for: entry, contents: nil, attachments: [])
    }

    /// Parses an `ActionResult` written by any REAPI writer (unknown fields are skipped).
    ///
    /// Returns nil unless the result has exactly one output file with a valid SHA-256
    /// digest, no output directories or symlinks, and exit code 0. The time is the
    /// worker-completed timestamp, else the upload- or execution-completed one, else zero;
    /// the signatures are those in the auxiliary metadata (`ActionMapping+Signatures`).
    public static func entry(fromActionResult bytes: [UInt8]) -> ActionEntry? {
        var file: ArraySlice<UInt8>? = nil
        var files = 0
        var metadata: ArraySlice<UInt8>? = nil
        let ok = ProtoReader.forEachField(bytes[...]) { field, value in
            switch (field, value) {
            case (2, .bytes(let b)):  // output_files
                files += 1
                file = b
            case (3, _), (10, _), (11, _), (12, _):  // directories and symlinks
                return false
            case (4, .varint(let code)):  // exit_code
                return code == 0
            case (9, .bytes(let b)):  // execution_metadata
                metadata = b
            default:
                break
            }
            return true
        }
        guard ok, files == 1, let file else { return nil }
        var digestBytes: ArraySlice<UInt8>? = nil
        guard
            ProtoReader.forEachField(
                file,
                { field, value in
                    if field == 2, case .bytes(let b) = value { digestBytes = b }
                    return true
                }), let digestBytes, let (digest, size) = parseDigest(digestBytes)
        else { return nil }
        var time = Timestamp(nanoseconds: 0)
        var signatures: [EntrySignature] = []
        if let metadata {
            var candidates: [Int: ArraySlice<UInt8>] = [:]
            guard
                ProtoReader.forEachField(
                    metadata,
                    { field, value in
                        if case .bytes(let b) = value { candidates[field] = b }
                        return true
                    })
            else { return nil }
            // worker_completed, output_upload_completed, execution_completed
            for field in [4, 10, 8] {
                if let ts = candidates[field], let t = parseTimestamp(ts) {
                    time = t
                    break
                }
            }
            signatures = Self.signatures(inMetadata: metadata)
        }
        return ActionEntry(outputID: digest, size: size, time: time, signatures: signatures)
    }

    static func writeDigest(_ w: inout ProtoWriter, _ digest: Digest, size: Int64) {
        w.string(1, digest.hex)  // hash
        w.int(2, size)  // size_bytes
    }

    static func parseDigest(_ bytes: ArraySlice<UInt8>) -> (Digest, Int64)? {
        var hash: Digest? = nil
        var size: Int64 = 0
        guard
            ProtoReader.forEachField(
                bytes,
                { field, value in
                    switch (field, value) {
                    case (1, .bytes(let b)):
                        hash = Digest(hex: String(decoding: b, as: UTF8.self))
                        return hash != nil
                    case (2, .varint(let v)):
                        size = Int64(bitPattern: v)
                        return size >= 0
                    default:
                        return true
                    }
                }), let hash
        else { return nil }
        return (hash, size)
    }

    static func parseTimestamp(_ bytes: ArraySlice<UInt8>) -> Timestamp? {
        var seconds: Int64 = 0
        var nanos: Int64 = 0
        guard
            ProtoReader.forEachField(
                bytes,
                { field, value in
                    switch (field, value) {
                    case (1, .varint(let v)): seconds = Int64(bitPattern: v)
                    case (2, .varint(let v)): nanos = Int64(Int32(truncatingIfNeeded: v))
                    default: break
                    }
                    return true
                }), (0..<1_000_000_000).contains(nanos),
            abs(seconds) < Int64.max / 1_000_000_000 - 1
        else { return nil }
        return Timestamp(nanoseconds: seconds * 1_000_000_000 + nanos)
    }
}
