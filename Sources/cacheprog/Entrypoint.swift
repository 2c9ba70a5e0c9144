import CASBridgeREAPI
import Logging

@main
struct Entrypoint {
    static func main() {
        LoggingSystem.bootstrap { label in
            _ = label
            return StderrLogHandler()
        }
        // grpc:// and grpcs:// remotes (the REAPI backend lives in its own library).
        REAPIBackend.register()
        CacheProg.main()
    }
}
