extension ActionMapping {
    /// The `Any.type_url` of an attachment in `ExecutedActionMetadata.auxiliary_metadata`;
    /// its value is `AttachedBlob{Digest digest = 1; bytes contents = 2;}`.
    public static let attachmentTypeURL = "type.googleapis.com/casbridge.v1.AttachedBlob"

    /// `actionResult(for:)` with the output's bytes inlined in `OutputFile.contents` (field 5),
    /// which REAPI defines for small outputs: a reader then needs one request, not two.
    public static func actionResult(for entry: ActionEntry, inlining contents: [UInt8]) -> [UInt8] {
        actionResult(for: entry, contents: contents, attachments: [])
    }

    /// `actionResult(for:)` carrying `blobs`: one of the entry's own output is inlined in
    /// `OutputFile.contents`, the others go in `ExecutedActionMetadata.auxiliary_metadata`
    /// (field 11, repeated `Any`), which REAPI servers keep and other readers skip.
    public static func actionResult(for entry: ActionEntry, attaching blobs: [AttachedBlob]) -> [UInt8] {
        let own = blobs.first { $0.digest == entry.outputID && Int64($0.bytes.count) == entry.size }
        return actionResult(for: entry, contents: own?.bytes, attachments: blobs.filter { $0.digest != entry.outputID })
    }

    static func actionResult(for entry: ActionEntry, contents: [UInt8]?, attachments: [AttachedBlob]) -> [UInt8] {
        var w = ProtoWriter()
        w.message(2) { file in  // output_files
            file.string(1, outputPath)  // path
            file.message(2) { writeDigest(&$0, entry.outputID, size: entry.size) }  // digest
            if let contents { file.bytes(5, contents, always: true) }  // contents
        }
        w.message(9) { meta in  // execution_metadata
            meta.string(1, worker)  // worker
            meta.message(4) { ts in  // worker_completed_timestamp
                ts.int(1, entry.time.seconds)  // seconds
                ts.int(2, entry.time.nanoseconds.floorMod(1_000_000_000))  // nanos
            }
            writeSignatures(&meta, entry.signatures)
            for blob in attachments {
                meta.message(11) { any in  // auxiliary_metadata
                    any.string(1, attachmentTypeURL)  // type_url
                    any.message(2) { value in  // value: AttachedBlob
                        value.message(1) { writeDigest(&$0, blob.digest, size: Int64(blob.bytes.count)) }
                        value.bytes(2, blob.bytes, always: true)
                    }
                }
            }
        }
        return w.bytes
    }

    /// The inlined contents of the one output file of an ActionResult, if it has them.
    public static func inlineContents(fromActionResult bytes: [UInt8]) -> [UInt8]? {
        guard let file = field(2, in: bytes[...]) else { return nil }
        return field(5, in: file).map { Array($0) }
    }

    /// The blobs an ActionResult carries: its output's inlined contents, then the
    /// attachments in its auxiliary metadata, each with the digest its writer gave it
    /// (unverified; malformed attachments are skipped).
    public static func attachments(fromActionResult bytes: [UInt8], entry: ActionEntry) -> [AttachedBlob] {
        var blobs: [AttachedBlob] = []
        if let contents = inlineContents(fromActionResult: bytes), Int64(contents.count) == entry.size {
            blobs.append(AttachedBlob(digest: entry.outputID, bytes: contents))
        }
        guard let metadata = field(9, in: bytes[...]) else { return blobs }
        _ = ProtoReader.forEachField(metadata) { number, value in
            guard number == 11, case .bytes(let any) = value,
                field(1, in: any).map({ String(decoding: $0, as: UTF8.self) }) == attachmentTypeURL,
                let blob = field(2, in: any), let digest = field(1, in: blob), let contents = field(2, in: blob),
                let (hash, size) = parseDigest(digest), size == contents.count
            else { return true }
            blobs.append(AttachedBlob(digest: hash, bytes: Array(contents)))
            return true
        }
        return blobs
    }

    /// The last length-delimited field `number` of a message, if any.
    static func field(_ number: Int, in message: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        var found: ArraySlice<UInt8>? = nil
        guard
            ProtoReader.forEachField(
                message,
                { field, value in
                    if field == number, case .bytes(let b) = value { found = b }
                    return true
                })
        else { return nil }
        return found
    }
}
