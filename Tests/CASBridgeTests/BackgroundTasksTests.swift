import Synchronization
import Testing

@testable import CASBridge

@Suite("BackgroundTasks")
struct BackgroundTasksTests {
    @Test("a scope's cancel reaches its running children and the ones spawned later, not others")
    func scopeCancels() async throws {
        let tasks = BackgroundTasks()
        let scope = BackgroundTasks.Scope()
        let started = PrefetchGate()
        let inScope = Flight<Bool>()
        let outside = Flight<Bool>()
        let release = PrefetchGate()
        #expect(
            tasks.spawn(in: scope) {
                started.open()
                // Ends when cancelled.
                try? await Task.sleep(for: .seconds(3600))
                inScope.land(Task.isCancelled)
            })
        #expect(
            tasks.spawn {
                await release.wait()
                outside.land(Task.isCancelled)
            })
        await started.wait()
        scope.cancel()
        #expect(await inScope.value, "the running child must see the cancellation")
        let late = Flight<Bool>()
        tasks.spawn(in: scope) { late.land(Task.isCancelled) }
        #expect(await late.value, "a child spawned in a cancelled scope starts cancelled")
        release.open()
        #expect(await outside.value == false, "work outside the scope runs on")
    }

    @Test("a flight's waiters all get the value it lands with, before and after it lands")
    func flightLands() async {
        let flight = Flight<Int>()
        async let first = flight.value
        async let second = flight.value
        flight.land(7)
        flight.land(8)
        #expect(await first == 7)
        #expect(await second == 7)
        #expect(await flight.value == 7)
    }
}
