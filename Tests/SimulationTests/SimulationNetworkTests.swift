import AsyncPatterns
import HTTPEngines
import MockServer
import Simulation
import Testing

@Suite("Simulation network delay")
struct SimulationNetworkTests {
    @Test("a zero-latency server behind a fixed 4 ms round trip answers every attempt in 4 ms")
    func fixedRoundTrip() throws {
        let result = try Simulation.run(
            configuration: SimulationFixtures.closed(workers: 10, requests: 1000),
            server: SimulationFixtures.server(latency: .fixed(ms: 0)), seed: 1, network: .fixed(.milliseconds(4)))
        #expect(result.samples.count == 1000)
        #expect(result.samples.allSatisfy { $0.latencyNs == 4_000_000 && $0.status == 200 })
    }

    @Test("round trips of |N(10 ms, 2 ms)| average 10 ms, spread about 2 ms, and are all >= 0")
    func absNormalMean() throws {
        let result = try Simulation.run(
            configuration: SimulationFixtures.closed(workers: 50, requests: 20_000),
            server: SimulationFixtures.server(latency: .fixed(ms: 0)), seed: 1, network: .awsBackoffStudy)
        let latencies = result.samples.map { Double($0.latencyNs) / 1e6 }
        let mean = latencies.reduce(0, +) / Double(latencies.count)
        let variance = latencies.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(latencies.count - 1)
        // E|N(10, 2)| = 10 ms to within 1e-6 (the fold at zero is five deviations away).
        #expect(abs(mean / 10 - 1) < 0.02, "mean \(mean) ms")
        #expect(abs(variance.squareRoot() / 2 - 1) < 0.05, "sd \(variance.squareRoot()) ms")
        #expect(latencies.allSatisfy { $0 >= 0 })
        #expect(Set(latencies).count > 1000)
    }

    @Test("random round trips are the same in two runs, with and without the capacity model, and key on the seed")
    func deterministic() throws {
        var capped = SimulationFixtures.server(errorRate: 0.3)
        capped.capacity = .init(limit: 8, whenFull: .queue)
        for server in [SimulationFixtures.server(errorRate: 0.3), capped] {
            let run = { (seed: UInt64) in
                try Simulation.run(
                    configuration: SimulationFixtures.closed(workers: 20, requests: 2000), server: server,
                    resilience: SimulationFixtures.retrying(maxAttempts: 3), seed: seed,
                    network: .absNormal(mean: .milliseconds(10), standardDeviation: .milliseconds(2)))
            }
            let first = try run(5)
            let second = try run(5)
            #expect(first.samples == second.samples)
            #expect(first.summary == second.summary)
            #expect(try run(6).samples != first.samples)
        }
    }

    @Test("the round trip is drawn per attempt, independent of the server's own draws")
    func independentOfServer() throws {
        // The same client seed against two server seeds: the server's faults differ, the round trips do not.
        let runs = try [UInt64(1), 2].map { serverSeed in
            try Simulation.run(
                configuration: SimulationFixtures.closed(workers: 1, requests: 200),
                server: SimulationFixtures.server(latency: .fixed(ms: 0), errorRate: 0.5, seed: serverSeed),
                resilience: SimulationFixtures.retrying(maxAttempts: 3), seed: 9, network: .awsBackoffStudy)
        }
        let keyed = runs.map { run in
            Dictionary(uniqueKeysWithValues: run.samples.map { ("\($0.requestID)/\($0.attempt)", $0.latencyNs) })
        }
        let common = Set(keyed[0].keys).intersection(keyed[1].keys)
        #expect(common.count >= 200)
        #expect(common.allSatisfy { keyed[0][$0] == keyed[1][$0] })
        #expect(runs[0].samples.map(\.status) != runs[1].samples.map(\.status))
    }

    @Test(
        "a negative network delay is refused",
        arguments: [
            NetworkDelay.fixed(.milliseconds(-1)),
            .absNormal(mean: .milliseconds(-1), standardDeviation: .zero),
            .absNormal(mean: .milliseconds(10), standardDeviation: .milliseconds(-2)),
        ])
    func refusesNegative(network: NetworkDelay) {
        #expect(throws: SimulationError.self) {
            _ = try Simulation.run(
                configuration: SimulationFixtures.closed(workers: 1, requests: 1),
                server: SimulationFixtures.server(), seed: 1, network: network)
        }
    }
}
