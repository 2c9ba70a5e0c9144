import Logging

@main
struct Entrypoint {
    static func main() {
        LoggingSystem.bootstrap { label in
            _ = label
            return StderrLogHandler()
        }
        CacheProg.main()
    }
}
