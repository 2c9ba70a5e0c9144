/// Reading the local store's journal (`v1/index`): whole records in order, past torn ones.
enum IndexJournal {
    /// Decodes the records in `bytes`, calling `body` for each, and returns how many bytes
    /// were consumed. A torn or garbage stretch is skipped a byte at a time until records line
    /// up again; an invalid record at the very end may still be being written, so it is left
    /// to be read again next time.
    static func decode(_ bytes: [UInt8], _ body: (IndexRecord) throws -> Void) rethrows -> Int {
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset + IndexRecord.size <= raw.count {
                if let r = IndexRecord.decode(UnsafeRawBufferPointer(rebasing: raw[offset...])) {
                    try body(r)
                    offset += IndexRecord.size
                } else if offset + IndexRecord.size == raw.count {
                    break
                } else {
                    offset += 1
                }
            }
            return offset
        }
    }
}
