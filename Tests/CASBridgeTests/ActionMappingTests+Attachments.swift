import CASBridge
import Testing

extension ActionMappingTests {
    @Test("attachments round-trip in auxiliary_metadata; readers of the plain entry see the same entry")
    func attachments() throws {
        let own = Array("the manifest".utf8)
        let head = Array("the first output".utf8)
        let entry = ActionEntry(outputID: SHA256.hash(own), size: Int64(own.count), time: Timestamp(nanoseconds: 42))
        let blobs = [
            AttachedBlob(digest: entry.outputID, bytes: own), AttachedBlob(digest: SHA256.hash(head), bytes: head),
        ]
        let bytes = ActionMapping.actionResult(for: entry, attaching: blobs)
        #expect(ActionMapping.entry(fromActionResult: bytes) == entry, "an older reader still decodes the entry")
        #expect(ActionMapping.inlineContents(fromActionResult: bytes) == own, "the entry's own output is inlined")
        let read = ActionMapping.attachments(fromActionResult: bytes, entry: entry)
        #expect(read == blobs)
        #expect(read.allSatisfy { $0.isIntact })
        #expect(ActionMapping.actionResult(for: entry, attaching: []) == ActionMapping.actionResult(for: entry))
    }

    @Test(
        "an attachment of another type, or whose size disagrees with its bytes, is skipped; a forged one reads as not intact"
    )
    func foreignAttachments() throws {
        let entry = ActionEntry(outputID: SHA256.hash([1]), size: 1, time: Timestamp(nanoseconds: 0))
        var w = ProtoTestWriter()
        w.message(9) { meta in
            meta.message(11) { any in  // someone else's Any
                any.string(1, "type.googleapis.com/example.Other")
                any.bytes(2, [1, 2, 3])
            }
            meta.message(11) { any in  // ours, but the digest's size disagrees with the bytes
                any.string(1, ActionMapping.attachmentTypeURL)
                any.message(2) { blob in
                    blob.message(1) { d in
                        d.string(1, SHA256.hash([9, 9]).hex)
                        d.int(2, 3)
                    }
                    blob.bytes(2, [9, 9])
                }
            }
        }
        #expect(ActionMapping.attachments(fromActionResult: w.bytes, entry: entry).isEmpty)

        let forged = AttachedBlob(digest: SHA256.hash([1, 2]), bytes: [1, 3])
        let bytes = ActionMapping.actionResult(for: entry, attaching: [forged])
        let read = ActionMapping.attachments(fromActionResult: bytes, entry: entry)
        #expect(read == [forged], "attachments are handed on unverified")
        #expect(read.first?.isIntact == false)
    }
}

/// A minimal protobuf writer for hand-made test messages (fields in the order written).
struct ProtoTestWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        varint(UInt64(field << 3 | 2))
        varint(UInt64(value.count))
        bytes += value
    }

    mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }

    mutating func int(_ field: Int, _ value: Int64) {
        varint(UInt64(field << 3))
        varint(UInt64(bitPattern: value))
    }

    mutating func message(_ field: Int, _ build: (inout ProtoTestWriter) -> Void) {
        var inner = ProtoTestWriter()
        build(&inner)
        bytes(field, inner.bytes)
    }
}
