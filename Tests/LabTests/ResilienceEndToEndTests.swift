import AsyncPatterns
import LabBenchmarks
import MockServer
import Testing

@testable import Lab

/// End to end against an in-process mock server with a fault schedule: healthy, then every request fails, then
/// healthy again. The breaker must open while the server fails and close after it recovers.
@Suite struct ResilienceEndToEndTests {
    /// A 5 s schedule. Every phase is long enough that a stall of a second or more on a loaded two-core machine
    /// cannot move a transition across a phase boundary: the breaker opens about 50 ms into the 2 s failing phase,
    /// and the 2 s recovered phase leaves many open periods (300 ms) for the probes that close it.
    static var options: ResilienceScenarioOptions {
        var options = ResilienceScenarioOptions()
        options.healthyMs = 1000
        options.failingMs = 2000
        options.recoveredMs = 2000
        options.openMs = 300
        options.rate = 200
        options.latencyMs = 1
        return options
    }

    /// The breaker goes closed -> open while the server fails, probes (open -> half_open, failing probes reopen
    /// it), and closes exactly once, for good, after the server recovers; requests reached every phase.
    @Test(.timeLimit(.minutes(1)))
    func breakerOpensWhileFailingAndClosesAfterRecovery() async throws {
        let options = Self.options
        let initial = MockServerConfiguration(latency: .fixed(ms: 1))
        let (result, counters) = try await withRunningMockServer(initial) { server in
            let result = try await ResilienceScenario(options: options).run(baseURL: server.baseURL) {
                try server.apply(options.serverConfiguration)
                server.resetCounters()
            }
            return (result, server.counters())
        }
        #expect(result.problems == [], "\(result.description)")
        // The order of the transitions, whatever their timing: a chain that starts closed -> open, alternates
        // open -> half_open with a probe's verdict, and ends with the only half_open -> closed.
        let transitions = result.transitions
        #expect(transitions.first.map { $0.from == .closed && $0.to == .open } == true, "\(result.description)")
        #expect(zip(transitions, transitions.dropFirst()).allSatisfy { $0.to == $1.from }, "\(result.description)")
        for (index, transition) in transitions.enumerated().dropFirst() {
            let expected: Set<CircuitState> = transition.from == .open ? [.halfOpen] : [.open, .closed]
            #expect(expected.contains(transition.to), "transition \(index): \(result.description)")
        }
        #expect(transitions.filter { $0.to == .closed }.count == 1, "\(result.description)")
        #expect(transitions.last.map { $0.from == .halfOpen && $0.to == .closed } == true)
        #expect(result.snapshot.breakerState == .closed)
        #expect(result.snapshot.breakerRejections > 0)
        #expect(result.snapshot.retries > 0)
        #expect(result.outcomes[.circuitOpen, default: 0] > 0)
        #expect(result.okAfterRecovery > 0)
        // The server saw requests in each phase, the failing one answered 500.
        for phase in ["healthy", "failing", "recovered"] {
            #expect(counters.byPhase[phase, default: 0] > 0, "no request in the \(phase) phase: \(counters.byPhase)")
        }
        #expect(counters.byStatus["500", default: 0] > 0)
    }

    /// Without a breaker the scenario's check reports the missing transition.
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
