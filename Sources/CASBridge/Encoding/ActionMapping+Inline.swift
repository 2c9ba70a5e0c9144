extension ActionMapping {
    /// `actionResult(for:)` with the output's bytes inlined in `OutputFile.contents` (field 5),
    /// which REAPI defines for small outputs: a reader then needs one request, not two.
    public static func actionResult(for entry: ActionEntry, inlining contents: [UInt8]) -> [UInt8] {
        var w = ProtoWriter()
        w.message(2) { file in  // output_files
            file.string(1, outputPath)  // path
            file.message(2) { writeDigest(&$0, entry.outputID, size: entry.size) }  // digest
            file.bytes(5, contents, always: true)  // contents
        }
        w.message(9) { meta in  // execution_metadata
            meta.string(1, worker)  // worker
            meta.message(4) { ts in  // worker_completed_timestamp
                ts.int(1, entry.time.seconds)  // seconds
                ts.int(2, entry.time.nanoseconds.floorMod(1_000_000_000))  // nanos
            }
        }
        return w.bytes
    }

    /// The inlined contents of the one output file of an ActionResult, if it has them.
    public static func inlineContents(fromActionResult bytes: [UInt8]) -> [UInt8]? {
        var file: ArraySlice<UInt8>? = nil
        guard
            ProtoReader.forEachField(
                bytes[...],
                { field, value in
                    if field == 2, case .bytes(let b) = value { file = b }
                    return true
                }), let file
        else { return nil }
        var contents: [UInt8]? = nil
        guard
            ProtoReader.forEachField(
                file,
                { field, value in
                    if field == 5, case .bytes(let b) = value { contents = Array(b) }
                    return true
                })
        else { return nil }
        return contents
    }
}
