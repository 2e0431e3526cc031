import AsyncPatterns
import MockServer
import Testing

@testable import Lab

/// End to end against an in-process mock server with a fault schedule: healthy, then every request fails, then
/// healthy again. The breaker must open while the server fails and close after it recovers.
@Suite struct ResilienceEndToEndTests {
    /// A short schedule (4 s in all) so the test stays well under 15 s.
    static var options: ResilienceScenarioOptions {
        var options = ResilienceScenarioOptions()
        options.healthyMs = 500
        options.failingMs = 1500
        options.recoveredMs = 2000
        options.openMs = 300
        options.rate = 200
        options.latencyMs = 1
        return options
    }

    @Test(.timeLimit(.minutes(1)))
    func breakerOpensWhileFailingAndClosesAfterRecovery() async throws {
        let options = Self.options
        let result = try await withRunningMockServer(MockServerConfiguration(latency: .fixed(ms: 1))) { server in
            try await ResilienceScenario(options: options).run(baseURL: server.baseURL) {
                try server.apply(options.serverConfiguration)
                server.resetCounters()
            }
        }
        #expect(result.problems == [], "\(result.description)")
        #expect(result.transitions.contains { $0.from == .closed && $0.to == .open })
        #expect(result.transitions.contains { $0.from == .open && $0.to == .halfOpen })
        #expect(result.transitions.last.map { $0.from == .halfOpen && $0.to == .closed } == true)
        #expect(result.snapshot.breakerState == .closed)
        #expect(result.snapshot.breakerRejections > 0)
        #expect(result.snapshot.retries > 0)
        #expect(result.outcomes[.circuitOpen, default: 0] > 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func withoutTheBreakerTheCheckFails() async throws {
        var broken = Self.options
        broken.breakerEnabled = false
        broken.failingMs = 500
        broken.recoveredMs = 500
        let options = broken
        let result = try await withRunningMockServer(MockServerConfiguration(latency: .fixed(ms: 1))) { server in
            try await ResilienceScenario(options: options).run(baseURL: server.baseURL) {
                try server.apply(options.serverConfiguration)
            }
        }
        #expect(!result.passed)
        #expect(result.transitions.isEmpty)
        #expect(result.problems.contains { $0.contains("never went closed -> open") })
    }
}
