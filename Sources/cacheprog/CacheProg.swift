import ArgumentParser

/// The root command: with no subcommand it is the GOCACHEPROG helper.
struct CacheProg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cacheprog",
        abstract: "A GOCACHEPROG helper over a content-addressed store.",
        discussion: """
            Set GOCACHEPROG=/path/to/cacheprog and the go command keeps its build and test cache in \
            a local content-addressed store, optionally backed by a remote HTTP, S3 or REAPI cache.
            """,
        subcommands: [Serve.self, Trim.self, Stats.self, Verify.self, GoMod.self, KeyGen.self],
        defaultSubcommand: Serve.self)
}
