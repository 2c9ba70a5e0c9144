/// Waiting in async tests for work that happens elsewhere.
public enum Polling {
    /// Returns once `condition` holds or `timeout` has passed; the caller checks the
    /// condition afterwards. Checks every 10 ms with `Task.sleep`, so no thread of the
    /// concurrency pool is held meanwhile: the work waited for often runs there, and the
    /// suites that wait on go builds may hold the pool's other thread.
    public static func until(timeout: Duration, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
