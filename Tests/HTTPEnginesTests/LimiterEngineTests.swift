import AsyncPatterns
import HTTPEngines
import MockServer
import TestSupport
import Testing

/// Engines hold the policy's gate (a concurrency limiter) for each attempt they send.
@Suite("Engines through a concurrency limiter", .timeLimit(.minutes(1)))
struct LimiterEngineTests {
    static let server = MockServerConfiguration(latency: .fixed(ms: 20))
    /// Every engine that runs more than one request at once (sync has one in flight, so it never waits).
    static let concurrentEngines = EngineKind.allCases.filter { $0 != .sync }

    @Test(
        "a limit of 2 at concurrency 8: never more than 2 attempts in flight, every request ok",
        arguments: concurrentEngines)
    func limitHoldsInFlightAttempts(kind: EngineKind) async throws {
        let policy = try ResiliencePolicy(configuration: .init(limiter: .init(limit: 2)), seed: 1)
        try await withRunningMockServer(Self.server) { running in
            let sink = CollectingSink()
            let configuration = EngineConfiguration(baseURL: running.baseURL, concurrency: 8, requests: 48)
            let summary = try await makeEngine(kind).run(configuration, policy: policy, sink: sink)
            expectAccounting(sink.all, total: 48)
            #expect(summary.completedRequests == 48)
            #expect(sink.all.count == 48)
            #expect(sink.all.allSatisfy { $0.errorClass == .ok && $0.intendedNs <= $0.startNs })
            #expect(running.counters().requests == 48)
        }
        let metrics = try #require(policy.limiter).metrics
        #expect(metrics.peak == 2)
        #expect(metrics.current == 0 && metrics.acquired == 48 && metrics.timeouts == 0)
        let snapshot = policy.snapshot()
        #expect(snapshot.limiterLimit == 2 && snapshot.limiterPeak == 2 && snapshot.limiterTimeouts == 0)
    }

    @Test(
        "a 1 ms acquire timeout: waiting attempts end unsent as limiter_timeout, one final each",
        arguments: concurrentEngines)
    func acquireTimeoutEndsRequests(kind: EngineKind) async throws {
        let configuration = ResilienceConfiguration(
            retry: .init(maxAttempts: 3, backoff: .none), limiter: .init(limit: 1, acquireTimeoutMs: 1))
        let policy = try ResiliencePolicy(configuration: configuration, seed: 1)
        try await withRunningMockServer(Self.server) { running in
            let sink = CollectingSink()
            let configuration = EngineConfiguration(baseURL: running.baseURL, concurrency: 8, requests: 40)
            let summary = try await makeEngine(kind).run(configuration, policy: policy, sink: sink)
            let samples = sink.all
            expectAccounting(samples, total: 40)
            #expect(summary.completedRequests == 40)
            #expect(samples.count == 40, "a limiter timeout is final: it is never retried")
            let timedOut = samples.filter { $0.errorClass == .limiterTimeout }
            let ok = samples.filter { $0.errorClass == .ok }
            #expect(!timedOut.isEmpty)
            #expect(!ok.isEmpty)
            #expect(timedOut.count + ok.count == samples.count)
            #expect(timedOut.allSatisfy { $0.isFinal && $0.status == 0 && $0.bytes == 0 && $0.startNs <= $0.endNs })
            #expect(running.counters().requests == UInt64(ok.count), "timed-out attempts are never sent")
            let snapshot = policy.snapshot()
            #expect(snapshot.limiterTimeouts == timedOut.count)
            #expect(snapshot.limiterPeak == 1 && snapshot.retries == 0)
        }
        #expect(try #require(policy.limiter).metrics.current == 0)
    }

    @Test(
        "cancelling a run while attempts wait for a permit ends them as cancelled and leaks no permit",
        arguments: EngineKind.allCases)
    func cancelWhileWaiting(kind: EngineKind) async throws {
        let server = try RawTestServer(.silent)
        let policy = try ResiliencePolicy(configuration: .init(limiter: .init(limit: 1)), seed: 1)
        let sink = CollectingSink()
        let configuration = EngineConfiguration(
            baseURL: server.baseURL, concurrency: 4, requests: 10, requestTimeout: .seconds(50),
            shutdownGrace: .milliseconds(100))
        let run = Task { try await makeEngine(kind).run(configuration, policy: policy, sink: sink) }
        while server.acceptedConnections < 1 { try await Task.sleep(for: .milliseconds(5)) }
        run.cancel()
        let summary = try await run.value
        server.kill()
        expectAccounting(sink.all, total: 10)
        #expect(summary.completedRequests == 10)
        #expect(sink.all.allSatisfy { $0.errorClass == .cancelled })
        let metrics = try #require(policy.limiter).metrics
        #expect(metrics.current == 0 && metrics.waiting == 0 && metrics.peak <= 1 && metrics.timeouts == 0)
    }
}
