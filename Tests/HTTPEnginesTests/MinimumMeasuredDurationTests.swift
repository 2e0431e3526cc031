import AsyncPatterns
import Foundation
import HTTPEngines
import TestSupport
import Testing

@Suite("Minimum measured duration", .serialized, .timeLimit(.minutes(1)))
struct MinimumMeasuredDurationTests {
    /// A server that answers after 5 ms.
    static func slowServer() throws -> RawTestServer {
        try RawTestServer(
            .http { _, _ in
                Thread.sleep(forTimeInterval: 0.005)
                return 200
            })
    }

    @Test("a closed loop keeps measuring past `requests` until the minimum has passed", arguments: EngineKind.allCases)
    func extendsClosedLoop(kind: EngineKind) async throws {
        let server = try Self.slowServer()
        let sink = CollectingSink()
        let configuration = EngineConfiguration(
            baseURL: server.baseURL, concurrency: 2, requests: 10, warmupRequests: 2, connectTimeout: .seconds(20),
            requestTimeout: .seconds(30), minimumMeasuredDuration: .milliseconds(300), eventLoops: 3)
        let summary = try await makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
        let measured = sink.finals.filter { !$0.isWarmup }
        // Ten requests of about 5 ms on two workers take far less than 300 ms, even on a busy machine. (The async engine gets
        // event loops of its own: the shared ones are busy with other tests run in parallel.)
        #expect(measured.count > 10)
        #expect(summary.warmupRequests == 2 && summary.measuredRequests == measured.count)
        expectAccounting(sink.all, total: 2 + measured.count)
        let first = try #require(measured.map(\.startNs).min())
        let last = try #require(measured.map(\.endNs).max())
        #expect(last - first >= 300_000_000, "measured span \((last - first) / 1_000_000) ms")
    }

    @Test("without it the closed loop sends exactly `requests`; open loops ignore it", arguments: EngineKind.allCases)
    func exactCounts(kind: EngineKind) async throws {
        let server = try Self.slowServer()
        for (load, minimum) in [(LoadModel.closed, nil), (.openFixed(rate: 1000), Duration.milliseconds(300))] {
            let sink = CollectingSink()
            let configuration = EngineConfiguration(
                baseURL: server.baseURL, concurrency: 2, load: load, requests: 10, minimumMeasuredDuration: minimum)
            let summary = try await makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
            expectAccounting(sink.all, total: 10)
            #expect(sink.finals.count == 10, "\(load)")
            #expect(summary.measuredRequests == 10 && summary.warmupRequests == 0)
        }
    }
}
