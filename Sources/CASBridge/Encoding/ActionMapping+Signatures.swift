extension ActionMapping {
    /// The `Any.type_url` of an entry's signature in `ExecutedActionMetadata.auxiliary_metadata`;
    /// its value is `EntrySignature{string key_name = 1; bytes signature = 2;}`.
    public static let signatureTypeURL = "type.googleapis.com/casbridge.v1.EntrySignature"

    /// At most this many signatures of one entry are read: a writer signs with one key.
    static let maxSignatures = 8

    /// Writes `signatures` as `auxiliary_metadata` (field 11) of an `ExecutedActionMetadata`.
    static func writeSignatures(_ meta: inout ProtoWriter, _ signatures: [EntrySignature]) {
        for signature in signatures {
            meta.message(11) { any in  // auxiliary_metadata
                any.string(1, signatureTypeURL)  // type_url
                any.message(2) { value in  // value: EntrySignature
                    value.string(1, signature.keyName, always: true)
                    value.bytes(2, signature.bytes, always: true)
                }
            }
        }
    }

    /// The signatures among the `auxiliary_metadata` of an `ExecutedActionMetadata`
    /// (malformed ones are skipped; they verify with no key anyway).
    static func signatures(inMetadata metadata: ArraySlice<UInt8>) -> [EntrySignature] {
        var found: [EntrySignature] = []
        _ = ProtoReader.forEachField(metadata) { number, value in
            guard number == 11, case .bytes(let any) = value,
                field(1, in: any).map({ String(decoding: $0, as: UTF8.self) }) == signatureTypeURL,
                let signature = field(2, in: any), let name = field(1, in: signature),
                let bytes = field(2, in: signature)
            else { return true }
            found.append(EntrySignature(keyName: String(decoding: name, as: UTF8.self), bytes: Array(bytes)))
            return found.count < maxSignatures
        }
        return found
    }
}
