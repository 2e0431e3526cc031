import AsyncPatterns
import HTTPEngines
import MockServer
import Simulation

/// Cells shared by the simulation tests.
enum SimulationFixtures {
    /// A closed loop of `workers` clients sending `requests` requests to `/get`, with a 1 s per-attempt timeout.
    static func closed(workers: Int, requests: Int, seed: UInt64 = 7) -> EngineConfiguration {
        EngineConfiguration(
            baseURL: "http://simulated", concurrency: workers, requests: requests, requestTimeout: .seconds(1),
            seed: seed)
    }

    /// A server with `latency` and `errorRate` (500s), seeded with `seed`.
    static func server(
        latency: LatencyModel = .exponential(ms: 5), errorRate: Double = 0, seed: UInt64 = 7
    ) -> MockServerConfiguration {
        MockServerConfiguration(seed: seed, latency: latency, errorRate: errorRate)
    }

    /// Retries with full jitter backoff: `maxAttempts`, base 5 ms, cap 200 ms.
    static func retrying(maxAttempts: Int = 3) -> ResilienceConfiguration {
        ResilienceConfiguration(
            retry: .init(maxAttempts: maxAttempts, backoff: .full, baseMs: 5, capMs: 200, maxDelayMs: 1000))
    }

    /// A retrying, budgeted workload whose every part draws from `seed`: 50 clients, 2,000 requests, 30% errors,
    /// exponential latency, retries with a token budget.
    static func mixedRun(seed: UInt64, load: LoadModel = .closed) throws -> SimulationResult {
        var configuration = closed(workers: 50, requests: 2000, seed: seed)
        configuration.load = load
        configuration.warmupRequests = 20
        var resilience = retrying(maxAttempts: 3)
        resilience.budget = .init(kind: .tokenBucket, maxTokens: 50, costPerRetry: 1, refundPerSuccess: 0.2)
        return try Simulation.run(
            configuration: configuration, server: server(errorRate: 0.3, seed: seed), resilience: resilience,
            seed: seed, network: .fixed(.microseconds(300)))
    }
}
