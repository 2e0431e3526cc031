import AsyncPatterns
import HTTPEngines
import MockServer
import Simulation
import Testing

@Suite("Simulation server settings")
struct SimulationServerSettingsTests {
    /// A base of 10% errors and 5 ms, then 5 ms of errors only, then 5 ms of a 1 ms latency and 503s only.
    private static func scheduled(repeating: Bool = false) -> MockServerConfiguration {
        var configuration = MockServerConfiguration(seed: 3, latency: .fixed(ms: 5), errorRate: 0.1)
        configuration.schedule = [
            .init(name: "outage", durationMs: 5, errorRate: 1),
            .init(durationMs: 5, latency: .fixed(ms: 1), faults: .only(.status503)),
        ]
        configuration.repeatSchedule = repeating
        return configuration
    }

    @Test("the settings in force take each field from the phase that sets it, else from the base")
    func effectiveSettings() {
        let settings = LiveSettings(Self.scheduled())
        let outage = settings.effective(elapsed: 0)
        #expect(outage.phase == 0)
        #expect(outage.errorRate == 1)
        #expect(outage.latency == .fixed(ms: 5))
        #expect(outage.faults == .init())
        let second = settings.effective(elapsed: 5_000_000)
        #expect(second.phase == 1)
        #expect(second.errorRate == 0.1)
        #expect(second.latency == .fixed(ms: 1))
        #expect(second.faults == .only(.status503))
        let after = settings.effective(elapsed: 10_000_000)
        #expect(after.phase == nil)
        #expect(after.errorRate == 0.1 && after.latency == .fixed(ms: 5) && after.faults == .init())
        #expect(LiveSettings(Self.scheduled(repeating: true)).effective(elapsed: 12_000_000) == outage)
        #expect(LiveSettings(MockServerConfiguration()).effective(elapsed: 0).phase == nil)
    }

    @Test("a simulated attempt gets the settings in force when it reaches the server")
    func attemptsMeetThePhase() throws {
        let result = try Simulation.run(
            configuration: SimulationFixtures.closed(workers: 1, requests: 10), server: Self.scheduled(), seed: 1)
        #expect(result.samples.contains { $0.startNs < 5_000_000 })
        #expect(result.samples.contains { $0.startNs >= 5_000_000 && $0.startNs < 10_000_000 })
        // 0-5 ms: every attempt fails (500); 5-10 ms: 1 ms of latency, and the few faults are 503s.
        for sample in result.samples {
            let atNs = sample.startNs
            if atNs < 5_000_000 {
                #expect(sample.status == 500, "at \(atNs)")
            } else if atNs < 10_000_000 {
                #expect(sample.status == 200 || sample.status == 503, "at \(atNs)")
                #expect(sample.latencyNs == 1_000_000)
            }
        }
    }

    @Test("services that end after their client timed out are wasted work, with or without the capacity model")
    func wastedWork() throws {
        var impatient = SimulationFixtures.closed(workers: 4, requests: 40)
        impatient.requestTimeout = .milliseconds(5)
        let server = SimulationFixtures.server(latency: .fixed(ms: 10))
        let plain = try Simulation.run(configuration: impatient, server: server, seed: 1)
        #expect(plain.samples.allSatisfy { $0.errorClass == .timeout })
        #expect(plain.server.wasted == 40)

        impatient.path = "/contention/shared"
        let writes = try Simulation.run(configuration: impatient, server: server, seed: 1)
        #expect(writes.samples.allSatisfy { $0.errorClass == .timeout && $0.latencyNs == 5_000_000 })
        #expect(writes.server.wasted == 40)
    }
}
