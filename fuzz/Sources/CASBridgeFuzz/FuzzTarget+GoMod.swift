import GoModSandbox

extension FuzzTarget {
    /// A gomod tree file as read from the store; one that decodes must re-encode to itself.
    static func gomodTree(_ input: UnsafeRawBufferPointer) {
        let bytes = [UInt8](input)
        guard let tree = try? Tree.decode(bytes, what: "fuzz input") else { return }
        let again = try? Tree.decode(tree.encoded(), what: "re-encoded fuzz input")
        precondition(again == tree, "a decoded tree does not survive encoding")
    }

    /// The same text as go.mod, go.sum and `go mod download -json` output.
    static func gomodText(_ input: UnsafeRawBufferPointer) {
        let text = String(decoding: input, as: UTF8.self)
        _ = GoModFile(text: text)
        _ = GoSum(text: text)
        _ = try? DownloadRecord.parseStream([UInt8](input))
    }
}
