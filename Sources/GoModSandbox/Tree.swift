import CASBridge

/// A directory as a blob: the canonical encoding of its entries.
///
/// The encoding is UTF-8 text: the header line `casbridge-tree 1`, then one line per
/// entry, sorted by the bytes of the name:
///
///     <kind> <size> <sha256 hex> <name>\n
///
/// `kind` is `f` (file), `x` (executable file) or `d` (directory, whose digest and size
/// are those of its own tree blob). Nothing else is recorded: no times, owners or
/// permissions beyond the executable bit, so equal directories give equal bytes.
public struct Tree: Hashable, Sendable {
    /// The header line, without its newline.
    public static let header = "casbridge-tree 1"

    /// The entries, sorted by the bytes of their names.
    public private(set) var entries: [TreeEntry]

    /// Creates a tree from entries in any order; names must be valid and unique.
    public init(_ entries: [TreeEntry]) throws {
        let sorted = entries.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        for (i, e) in sorted.enumerated() {
            guard TreeEntry.isValidName(e.name) else {
                throw CASError(.malformedInput, "tree entry name '\(e.name)' is not allowed")
            }
            if i > 0, sorted[i - 1].name == e.name {
                throw CASError(.malformedInput, "tree has two entries named '\(e.name)'")
            }
        }
        self.entries = sorted
    }

    /// The canonical bytes of the tree.
    public func encoded() -> [UInt8] {
        var out = Array("\(Tree.header)\n".utf8)
        for e in entries {
            out.append(e.kind.rawValue)
            out += Array(" \(e.size) \(e.digest.hex) ".utf8)
            out += Array(e.name.utf8)
            out.append(0x0A)
        }
        return out
    }

    /// Decodes canonical bytes; `what` names the blob in errors. Anything that is not
    /// the canonical encoding (order, duplicates, stray bytes) is rejected.
    public static func decode(_ bytes: [UInt8], what: String) throws -> Tree {
        func bad(_ why: String) -> CASError {
            CASError(.malformedInput, "\(what) is not a valid tree blob: \(why)")
        }
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        guard lines.count >= 2, lines.last!.isEmpty, String(decoding: lines[0], as: UTF8.self) == header else {
            throw bad("missing header or final newline")
        }
        var entries: [TreeEntry] = []
        entries.reserveCapacity(lines.count - 2)
        for line in lines[1..<(lines.count - 1)] {
            let parts = line.split(separator: 0x20, maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count == 4, parts[0].count == 1, let kind = TreeEntry.Kind(rawValue: parts[0].first!),
                let size = Int64(String(decoding: parts[1], as: UTF8.self)), size >= 0,
                let digest = Digest(hex: String(decoding: parts[2], as: UTF8.self)), parts[2].count == 64
            else {
                throw bad("malformed line '\(String(decoding: line, as: UTF8.self))'")
            }
            guard let name = String(validating: parts[3], as: UTF8.self) else { throw bad("name is not UTF-8") }
            entries.append(TreeEntry(kind: kind, size: size, digest: digest, name: name))
        }
        let tree = try Tree(entries)
        guard tree.encoded() == bytes else { throw bad("not in canonical form") }
        return tree
    }
}
