import AsyncPatterns
import Foundation
import HTTPEngines
import MockServer
import Simulation

/// `sim.attempts_per_s`: the discrete-event simulation alone, on the calling thread.
enum SimulationFigures {
    /// Attempts simulated per second of wall time: 10,000 closed-loop clients, 1,000,000 logical requests, 30% of
    /// attempts failing (500), exponential 5 ms latency, 1 ms round trip, retries (3 attempts, full jitter backoff,
    /// base 10 ms, cap 1 s). The median of three runs, so one preempted run does not decide the figure.
    static func attemptsPerSecond() throws -> PerfFigure {
        let configuration = EngineConfiguration(
            baseURL: "http://simulated", concurrency: 10_000, requests: 1_000_000, seed: 42)
        let server = MockServerConfiguration(seed: 42, latency: .exponential(ms: 5), errorRate: 0.3)
        let resilience = ResilienceConfiguration(retry: .init(maxAttempts: 3, backoff: .full, baseMs: 10, capMs: 1000))
        let clock = ContinuousClock()
        var runs: [(attempts: Int, seconds: Double, events: Int, digest: UInt64)] = []
        for _ in 0..<3 {
            let start = clock.now
            let result = try Simulation.run(
                configuration: configuration, server: server, resilience: resilience, seed: 42,
                network: .fixed(.milliseconds(1)))
            let seconds = BenchmarkSupport.seconds(clock.now - start)
            runs.append((result.samples.count, seconds, result.events, digest(result.samples)))
        }
        runs.sort { Double($0.attempts) / $0.seconds > Double($1.attempts) / $1.seconds }
        let median = runs[1]
        let rate = Double(median.attempts) / median.seconds
        return PerfFigure(
            name: "sim.attempts_per_s", value: rate, unit: "attempts/s", target: ">= 2000000",
            command: "make perf ONLY=sim.",
            detail: String(
                format: "median of 3: %d attempts (%d events) in %.3f s; 10,000 closed-loop clients, 1,000,000 "
                    + "requests, error rate 0.3, 3 attempts with full jitter, one thread; samples digest %016llx",
                median.attempts, median.events, median.seconds, median.digest))
    }

    /// A fingerprint of every sample's fields, in order: a change that speeds the simulation up must leave it as is.
    private static func digest(_ samples: [AttemptSample]) -> UInt64 {
        samples.reduce(0) { digest, sample in
            StableHash.combine(
                digest, UInt64(bitPattern: sample.requestID) << 8 | UInt64(UInt32(bitPattern: sample.attempt)),
                UInt64(bitPattern: sample.intendedNs ^ sample.startNs << 1 ^ sample.endNs << 2),
                UInt64(UInt32(bitPattern: sample.status)) << 16 | UInt64(
                    StableHash.hash(sample.errorClass.rawValue) & 0xFF)
                    << 8 | (sample.isFinal ? 2 : 0) | (sample.isWarmup ? 1 : 0))
        }
    }
}
