import CASBridge

extension FuzzTarget {
    /// The journal as the store reads it after a crash or a torn write.
    static func indexJournal(_ input: UnsafeRawBufferPointer) {
        _ = DecoderProbe.journal([UInt8](input))
    }

    /// The table as a file, opened and read slot by slot.
    static func indexTable(_ input: UnsafeRawBufferPointer) {
        _ = DecoderProbe.table(fd: file("\(scratch)/table", input))
    }
}
