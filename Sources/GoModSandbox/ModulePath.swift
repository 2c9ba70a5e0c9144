import CASBridge

/// Module paths as the module cache spells them on disk.
enum ModulePath {
    /// The case-encoded form: each upper-case letter becomes `!` and its lower case, so
    /// module paths differing only in case get different directories.
    static func escape(_ path: String) -> String {
        var out = ""
        for c in path {
            if c.isUppercase, c.isASCII {
                out.append("!")
                out += c.lowercased()
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// The go.sum hash (`h1:`) of a go.mod file's bytes: the base64 SHA-256 of the
    /// line `<sha256 hex>  go.mod`, as the go command computes it.
    static func goModHash(_ bytes: [UInt8]) -> String {
        let line = "\(SHA256.hash(bytes).hex)  go.mod\n"
        return "h1:" + Base64.encode(SHA256.hash(Array(line.utf8)).bytes)
    }
}
