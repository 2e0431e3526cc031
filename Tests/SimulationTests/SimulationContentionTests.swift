import AsyncPatterns
import HTTPEngines
import MockServer
import Simulation
import Testing

@Suite("Simulation contention")
struct SimulationContentionTests {
    /// `workers` clients, one write each to `/contention/shared`, against a server with a fixed service time.
    private static func writes(workers: Int) -> EngineConfiguration {
        var configuration = SimulationFixtures.closed(workers: workers, requests: workers)
        configuration.path = "/contention/shared"
        return configuration
    }

    /// `experiments/jitter.json`'s retry: up to 100 attempts, base 2 ms, cap 200 ms, 408 and 409 retried.
    private static func retrying(_ backoff: ResilienceConfiguration.Retry.Backoff) -> ResilienceConfiguration {
        ResilienceConfiguration(
            retry: .init(
                maxAttempts: 100, backoff: backoff, baseMs: 2, capMs: 200, maxDelayMs: 200, retryOnStatus: [408, 409]))
    }

    @Test("of two writes whose services overlap, the second to end gets 409 and its retry commits")
    func overlappingWritesConflict() throws {
        let result = try Simulation.run(
            configuration: Self.writes(workers: 2), server: SimulationFixtures.server(latency: .fixed(ms: 2)),
            resilience: Self.retrying(.full), seed: 1)
        let conflicts = result.samples.filter { $0.status == 409 }
        #expect(conflicts.count == 1)
        #expect(conflicts.allSatisfy { !$0.isFinal && $0.attempt == 1 && $0.errorClass == .http4xx })
        let finals = result.samples.filter(\.isFinal)
        #expect(finals.count == 2)
        #expect(finals.allSatisfy { $0.status == 200 })
        #expect(finals.map(\.attempt).sorted() == [1, 2])
        #expect(result.samples.count == 3)
        #expect(result.server.requests == 3)
        // The retry reads the first write's version after it committed.
        let retry = result.samples.first { $0.attempt == 2 }
        #expect((retry?.startNs ?? 0) >= 2_000_000)
    }

    @Test("writes that do not overlap all commit: one at a time under a capacity of 1, or one after another")
    func serialWritesCommit() throws {
        var server = SimulationFixtures.server(latency: .fixed(ms: 2))
        server.capacity = .init(limit: 1, whenFull: .queue)
        let queued = try Simulation.run(
            configuration: Self.writes(workers: 5), server: server, resilience: Self.retrying(.full), seed: 1)
        #expect(queued.samples.count == 5)
        #expect(queued.samples.allSatisfy { $0.status == 200 && $0.isFinal })
        #expect(queued.server.peakInService == 1)

        var oneClient = SimulationFixtures.closed(workers: 1, requests: 20)
        oneClient.path = "/contention/shared"
        let serial = try Simulation.run(
            configuration: oneClient, server: SimulationFixtures.server(latency: .fixed(ms: 2)), seed: 1)
        #expect(serial.samples.count == 20)
        #expect(serial.samples.allSatisfy { $0.status == 200 })
    }

    @Test("writes overlap under a capacity of 2 as without one")
    func capacityOfTwoStillConflicts() throws {
        var server = SimulationFixtures.server(latency: .fixed(ms: 2))
        server.capacity = .init(limit: 2, whenFull: .queue)
        let result = try Simulation.run(
            configuration: Self.writes(workers: 2), server: server, resilience: Self.retrying(.full), seed: 1)
        #expect(result.samples.filter { $0.status == 409 }.count == 1)
        #expect(result.samples.filter(\.isFinal).allSatisfy { $0.status == 200 })
    }

    @Test("a write given a fault makes no write: the error rate applies as to /get")
    func faultsMakeNoWrite() throws {
        let result = try Simulation.run(
            configuration: Self.writes(workers: 2),
            server: SimulationFixtures.server(latency: .fixed(ms: 2), errorRate: 1.0), seed: 1)
        #expect(result.samples.count == 2)
        #expect(result.samples.allSatisfy { $0.status == 500 })
    }

    @Test("a jitter-like run (10 clients, full jitter) completes every write after more than 10 attempts, repeatably")
    func jitterRunCompletes() throws {
        let run = {
            try Simulation.run(
                configuration: Self.writes(workers: 10), server: SimulationFixtures.server(latency: .fixed(ms: 2)),
                resilience: Self.retrying(.full), seed: 20_261_129)
        }
        let result = try run()
        let finals = result.samples.filter(\.isFinal)
        #expect(finals.count == 10)
        #expect(finals.allSatisfy { $0.status == 200 })
        #expect(Set(finals.map(\.requestID)).count == 10)
        #expect(result.samples.count > 10)
        #expect(result.server.requests == result.samples.count)
        #expect(result.samples.filter { !$0.isFinal }.allSatisfy { $0.status == 409 })
        #expect(try run().samples == result.samples)
    }

    @Test("a contention path with a bad key is refused, naming the path")
    func refusesBadKey() {
        var configuration = Self.writes(workers: 1)
        configuration.path = "/contention/"
        #expect(throws: SimulationError.self) {
            _ = try Simulation.run(configuration: configuration, server: SimulationFixtures.server(), seed: 1)
        }
    }
}
