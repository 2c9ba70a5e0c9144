import Foundation

/// A small multi-package Go module with a test, for end-to-end builds.
public enum GoModuleFixture {
    /// Writes the module into `directory`.
    public static func write(to directory: String) throws {
        let files: [String: String] = [
            "go.mod": "module example.com/fixture\n\ngo 1.24\n",
            "cmd/app/main.go": """
            package main

            import (
            \t"fmt"

            \t"example.com/fixture/internal/calc"
            \t"example.com/fixture/text"
            )

            func main() {
            \tfmt.Println(text.Shout("fixture says"), calc.Answer())
            }

            """,
            "internal/calc/calc.go": """
            package calc

            import "example.com/fixture/internal/table"

            // Answer is 42.
            func Answer() int { return table.Sum(20, 22) }

            """,
            "internal/calc/calc_test.go": """
            package calc

            import "testing"

            func TestAnswer(t *testing.T) {
            \tif Answer() != 42 {
            \t\tt.Fatal("wrong answer")
            \t}
            }

            """,
            "internal/table/table.go": """
            package table

            // Sum adds.
            func Sum(a, b int) int { return a + b }

            """,
            "text/text.go": """
            package text

            import "strings"

            // Shout lowercases, oddly.
            func Shout(s string) string { return strings.ToLower(s) }

            """,
        ]
        for (name, content) in files {
            let path = "\(directory)/\(name)"
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try content.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    /// The environment for a hermetic, offline go command with its own GOCACHE.
    public static func baseEnvironment(gocache: String) -> [String: String] {
        [
            "GOCACHE": gocache, "GOTOOLCHAIN": "local", "GOPROXY": "off", "GOFLAGS": "-mod=mod",
            "GOENV": "off", "GOTELEMETRY": "off", "CGO_ENABLED": "0", "GOCACHEPROG": "",
            "GOPATH": "\(gocache)-gopath",
        ]
    }

    /// How many compiler invocations `go build -x` printed.
    public static func compileCount(_ trace: String) -> Int {
        trace.split(separator: "\n").filter { line in
            line.contains("/compile ") && line.contains(" -o ")
        }.count
    }
}
