import Foundation

extension ServerProcess {
    /// Runs `body` until it succeeds, every 200 ms for up to 30 s, while the server finishes starting (a gateway
    /// that listens before it serves); then fails naming `what`, the last error and the end of the server's log.
    public func retryWhileStarting(_ what: String, _ body: () async throws -> Void) async throws {
        let deadline = Date().addingTimeInterval(30)
        while true {
            do {
                return try await body()
            } catch {
                if Date() > deadline { throw ServerError("cannot \(what): \(error)\n\(log.suffix(3000))") }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}
