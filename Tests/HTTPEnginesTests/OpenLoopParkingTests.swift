import AsyncPatterns
import Foundation
import HTTPEngines
import TestSupport
import Testing

@Suite("Open-loop retries park during their backoff", .serialized, .timeLimit(.minutes(1)))
struct OpenLoopParkingTests {
    /// Engines whose timing this test can rely on while other tests run in parallel: `threaded` and `async_curl` on
    /// threads of their own, `async` on event loops of its own. (Sync has one worker whatever the cap; AsyncHTTPClient
    /// runs on the process-wide event loops, which the other tests keep busy for seconds at a time.)
    static let timedEngines: [EngineKind] = [.threaded, .async, .asyncCurl]

    @Test(
        "a retrying workload keeps the offered arrival rate under a small in-flight cap", arguments: timedEngines)
    func arrivalRateHeld(kind: EngineKind) async throws {
        // Every request fails twice with 503 and succeeds on its third attempt, 30 ms after each failure. A worker
        // that kept its slot through the backoffs would start at most 4 per 60 ms, about 65/s, not 250/s.
        let server = try RawTestServer(.http { _, attempt in attempt < 3 ? 503 : 200 })
        let sink = CollectingSink()
        // The async engine gets event loops of its own: the shared ones are busy with other tests run in parallel.
        let configuration = EngineConfiguration(
            baseURL: server.baseURL, concurrency: 4, load: .openFixed(rate: 250), requests: 300, eventLoops: 3)
        let policy = FixedBackoffPolicy(maxAttempts: 3, backoff: .milliseconds(30))
        let summary = try await makeEngine(kind).run(configuration, policy: policy, sink: sink)
        let samples = sink.all
        expectAccounting(samples, total: 300)
        #expect(samples.count == 900)
        #expect(sink.finals.allSatisfy { $0.errorClass == .ok && $0.attempt == 3 })
        #expect(summary.completedRequests == 300 && summary.measuredRequests == 300)
        let starts = samples.filter { $0.attempt == 1 }.sorted { $0.requestID < $1.requestID }.map(\.startNs)
        let achieved = Self.rate(ofStarts: starts)
        let maxLateness = summary.maxLateness
        #expect(
            abs(achieved - 250) <= 250 * 0.05,
            "first attempts started at \(achieved)/s, offered 250/s; largest lateness \(maxLateness)")
    }

    /// Starts per second: the inverse of the least-squares slope of start time against arrival index, so that a few
    /// late starts at either end do not skew it the way (count - 1) / (last - first) would.
    static func rate(ofStarts starts: [Int64]) -> Double {
        let n = Double(starts.count)
        let meanIndex = (n - 1) / 2
        let meanStart = starts.reduce(0.0) { $0 + Double($1) } / n
        var covariance = 0.0
        var variance = 0.0
        for (index, start) in starts.enumerated() {
            covariance += (Double(index) - meanIndex) * (Double(start) - meanStart)
            variance += (Double(index) - meanIndex) * (Double(index) - meanIndex)
        }
        return 1e9 / (covariance / variance)
    }

    @Test(
        "cancelling with retries parked still gives every request one final sample", arguments: EngineKind.allCases)
    func cancelWithParkedRetries(kind: EngineKind) async throws {
        let server = try RawTestServer(.http { _, _ in 503 })
        let sink = CollectingSink()
        let configuration = EngineConfiguration(
            baseURL: server.baseURL, concurrency: 2, load: .openFixed(rate: 200), requests: 200,
            shutdownGrace: .milliseconds(100))
        let policy = FixedBackoffPolicy(maxAttempts: 1000, backoff: .milliseconds(50))
        let run = Task { try await makeEngine(kind).run(configuration, policy: policy, sink: sink) }
        while server.servedRequests < 30 { try await Task.sleep(for: .milliseconds(5)) }
        run.cancel()
        let summary = try await run.value
        expectAccounting(sink.all, total: 200)
        #expect(summary.completedRequests == 200)
        #expect(sink.finals.allSatisfy { $0.errorClass == .cancelled })
        #expect(sink.all.contains { $0.attempt > 1 }, "some requests were retried, so some were parked")
    }
}
