/// Waiting in async tests for work that happens elsewhere.
public enum Polling {
    /// Returns once `condition` holds. Checks every 10 ms with `Task.sleep`, so no thread of
    /// the concurrency pool is held meanwhile (the work waited for often runs there). There
    /// is no deadline: a condition that never holds is a failure the suite's time limit ends.
    public static func until(_ condition: () -> Bool) async throws {
        while !condition() {
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
