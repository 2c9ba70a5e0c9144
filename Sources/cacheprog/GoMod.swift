import ArgumentParser

/// `cacheprog gomod`: module downloads as content-addressed trees.
struct GoMod: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gomod",
        abstract: "Download Go modules once per go.mod into the store; materialise them into hermetic sandboxes.",
        discussion: """
            'download' runs 'go mod download' once per distinct go.mod and go.sum and keeps the \
            module cache as a content-addressed tree; 'materialize' builds a GOMODCACHE from a tree; \
            'exec' does both and runs a command offline (GOPROXY=off, -mod=readonly) with GOCACHEPROG \
            pointing at this cacheprog.
            """,
        subcommands: [GoModDownload.self, GoModMaterialize.self, GoModExec.self])
}
