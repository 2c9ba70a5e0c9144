/// A minimal protocol-buffers encoder that writes fields in the order it is given them.
/// Callers write fields in ascending field-number order and skip default values, which
/// gives the deterministic encoding other REAPI writers produce.
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ field: Int, wireType: UInt64) {
        varint(UInt64(field) << 3 | wireType)
    }

    /// An int64 or int32 field (wire type 0); zero is skipped.
    mutating func int(_ field: Int, _ value: Int64) {
        guard value != 0 else { return }
        tag(field, wireType: 0)
        varint(UInt64(bitPattern: value))
    }

    /// A bytes, string or embedded-message field (wire type 2); empty values are skipped
    /// unless `always` (repeated or message fields, whose presence matters).
    mutating func bytes(_ field: Int, _ value: [UInt8], always: Bool = false) {
        guard always || !value.isEmpty else { return }
        tag(field, wireType: 2)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func string(_ field: Int, _ value: String, always: Bool = false) {
        bytes(field, Array(value.utf8), always: always)
    }

    mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
        var inner = ProtoWriter()
        build(&inner)
        bytes(field, inner.bytes, always: true)
    }
}
