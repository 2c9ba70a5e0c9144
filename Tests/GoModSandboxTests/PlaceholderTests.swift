import GoModSandbox
import Testing

@Test func moduleLoads() {
    _ = GoModSandbox.self
}
