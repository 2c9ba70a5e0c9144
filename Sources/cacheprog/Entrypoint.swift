import Logging

@main
struct Entrypoint {
    static func main() {
        LoggingSystem.bootstrap { label in
            _ = label
            return StderrLogHandler()
        }
        // The go command starts the helper for every invocation: its plain command line skips the
        // argument parser's start-up cost. Everything else (help, subcommands, errors) goes through it.
        if let settings = ServeSettings(commandLine: CommandLine.arguments.dropFirst()) {
            do {
                try settings.run()
            } catch {
                CacheProg.exit(withError: error)
            }
        } else {
            CacheProg.main()
        }
    }
}
