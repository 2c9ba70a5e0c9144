import Foundation
import GoModSandbox
import Testing

/// "\r\n" is one Character in Swift: go.mod and go.sum files with CRLF line endings (which
/// the go command reads) must split into the same lines as with LF.
@Suite("CRLF line endings")
struct LineEndingTests {
    @Test("go.mod with CRLF line endings: the module path and local replacements as with LF")
    func goMod() {
        let text = "module example.com/svc\n\ngo 1.22\n\nreplace example.com/lib => ../lib\n"
        let file = GoModFile(text: text.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(file.modulePath == "example.com/svc")
        #expect(file.localReplacements == ["../lib"])
    }

    @Test("go.sum with CRLF line endings: every hash as with LF")
    func goSum() {
        let text = """
            golang.org/x/text v0.3.0 h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=
            golang.org/x/text v0.3.0/go.mod h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ=

            """
        let sum = GoSum(text: text.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(sum.hashes == GoSum(text: text).hashes)
        #expect(sum.hashes.count == 2)
    }
}
