import CASBridge
import CASBridgeTestSupport
import Foundation
import GoModSandbox
import Testing

@Suite struct TreeTests {
    @Test func encodingIsSortedCanonicalAndRoundTrips() throws {
        let a = SHA256.hash(Array("a".utf8))
        let b = SHA256.hash(Array("b".utf8))
        let tree = try Tree([
            TreeEntry(kind: .file, size: 1, digest: a, name: "z.go"),
            TreeEntry(kind: .directory, size: 77, digest: b, name: "Zeta@v1.0.0"),
            TreeEntry(kind: .executable, size: 1, digest: b, name: "run.sh"),
        ])
        let text = String(decoding: tree.encoded(), as: UTF8.self)
        #expect(
            text == """
                casbridge-tree 1
                d 77 \(b.hex) Zeta@v1.0.0
                x 1 \(b.hex) run.sh
                f 1 \(a.hex) z.go

                """)
        #expect(try Tree.decode(tree.encoded(), what: "test") == tree)
        // Out of order, upper-case hex, or a duplicate: not canonical, rejected.
        let swapped = "casbridge-tree 1\nf 1 \(a.hex) z.go\nd 77 \(b.hex) Zeta@v1.0.0\n"
        #expect(throws: CASError.self) { try Tree.decode(Array(swapped.utf8), what: "test") }
        let upper = "casbridge-tree 1\nf 1 \(a.hex.uppercased()) z.go\n"
        #expect(throws: CASError.self) { try Tree.decode(Array(upper.utf8), what: "test") }
        #expect(throws: CASError.self) {
            try Tree([TreeEntry(kind: .file, size: 1, digest: a, name: "x/y")])
        }
    }

    @Test func keyCoversGoModGoSumAndLocalReplacementsButNotTheProxy() throws {
        let temp = try TemporaryDirectory("gomod-key")
        let fm = FileManager.default
        try fm.createDirectory(atPath: temp.sub("m"), withIntermediateDirectories: true)
        try fm.createDirectory(atPath: temp.sub("lib"), withIntermediateDirectories: true)
        try "module example.com/m\n\ngo 1.22\n\nreplace example.com/lib => ../lib // local\n"
            .write(toFile: temp.sub("m/go.mod"), atomically: true, encoding: .utf8)
        try "example.com/x v1.0.0/go.mod h1:abc=\n".write(
            toFile: temp.sub("m/go.sum"), atomically: true, encoding: .utf8)
        try "module example.com/lib\n".write(toFile: temp.sub("lib/go.mod"), atomically: true, encoding: .utf8)

        let k1 = try ModuleKey(directory: temp.sub("m"), withZips: false)
        #expect(k1.localReplacementCount == 1)
        #expect(k1.material.contains("replace ../lib "))
        #expect(try ModuleKey(directory: temp.sub("m"), withZips: false).actionID == k1.actionID)
        #expect(try ModuleKey(directory: temp.sub("m"), withZips: true).actionID != k1.actionID)

        try "module example.com/lib\n\nrequire example.com/y v1.0.0\n"
            .write(toFile: temp.sub("lib/go.mod"), atomically: true, encoding: .utf8)
        let k2 = try ModuleKey(directory: temp.sub("m"), withZips: false)
        #expect(k2.actionID != k1.actionID)
        try "example.com/x v1.0.0/go.mod h1:abd=\n".write(
            toFile: temp.sub("m/go.sum"), atomically: true, encoding: .utf8)
        #expect(try ModuleKey(directory: temp.sub("m"), withZips: false).actionID != k2.actionID)
    }

    @Test func discoveryFindsEveryModuleAndSkipsVendorTestdataAndHidden() throws {
        let temp = try TemporaryDirectory("gomod-find")
        let fm = FileManager.default
        for dir in ["a", "a/nested", "b", "a/vendor/v", "a/testdata/t", ".git/x", "_skip/y", "c/d"] {
            try fm.createDirectory(atPath: temp.sub(dir), withIntermediateDirectories: true)
            if dir != "c/d" {
                try "module m\n".write(toFile: temp.sub("\(dir)/go.mod"), atomically: true, encoding: .utf8)
            }
        }
        try "module m\n".write(toFile: temp.sub("c/d/go.mod"), atomically: true, encoding: .utf8)
        let found = try ModuleDiscovery.moduleDirectories("\(temp.path)/...")
        #expect(found == ["a", "a/nested", "b", "c/d"].map { temp.sub($0) })
        // A plain directory is the module of the nearest go.mod.
        try fm.createDirectory(atPath: temp.sub("b/pkg/sub"), withIntermediateDirectories: true)
        #expect(try ModuleDiscovery.moduleDirectories(temp.sub("b/pkg/sub")) == [temp.sub("b")])
    }
}
