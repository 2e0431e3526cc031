import AsyncPatterns
import Foundation
import HTTPEngines
import TestSupport
import Testing

@Suite("Warm-up barrier", .serialized, .timeLimit(.minutes(1)))
struct WarmupBarrierTests {
    @Test(
        "every worker warms up, and the measured phase starts after the last warm-up request ends",
        arguments: EngineKind.allCases, [LoadModel.closed, .openFixed(rate: 500)])
    func measuredAfterWarmup(kind: EngineKind, load: LoadModel) async throws {
        let server = try RawTestServer(
            .http { _, _ in
                Thread.sleep(forTimeInterval: 0.005)
                return 200
            })
        let sink = CollectingSink()
        // Generous timeouts: tests running in parallel can keep the shared event loops busy for seconds.
        let configuration = EngineConfiguration(
            baseURL: server.baseURL, concurrency: 8, load: load, requests: 40, warmupRequests: 3,
            connectTimeout: .seconds(20), requestTimeout: .seconds(30))
        let summary = try await makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
        // Warm-up 3 is raised to one per worker: 8 workers, ids 0..<8 (sync has one worker: ids 0..<3).
        let warmupCount = kind == .sync ? 3 : 8
        let samples = sink.all
        expectAccounting(samples, total: warmupCount + 40)
        #expect(
            samples.allSatisfy { $0.errorClass == .ok },
            "not ok: \(samples.filter { $0.errorClass != .ok }.map { "\($0.requestID) \($0.errorClass)" })")
        #expect(summary.warmupRequests == warmupCount)
        #expect(summary.measuredRequests == 40)
        #expect(summary.completedRequests == warmupCount + 40)
        #expect(try #require(summary.measuredCPUSeconds) >= 0, "the measured phase's CPU is reported")
        let warmup = samples.filter(\.isWarmup)
        let measured = samples.filter { !$0.isWarmup }
        #expect(warmup.map(\.requestID).sorted() == Array(0..<Int64(warmupCount)))
        let lastWarmupEnd = try #require(warmup.map(\.endNs).max())
        let firstMeasuredStart = try #require(measured.map(\.startNs).min())
        #expect(firstMeasuredStart >= lastWarmupEnd, "measured request sent while the warm-up ran")
        if load != .closed {
            // The schedule starts when the barrier opens, not when the run began.
            #expect(try #require(measured.map(\.intendedNs).min()) >= lastWarmupEnd)
        }
        // Every warm-up request reached the server before any measured one, and by then every worker of the
        // engines that own a connection per worker had connected.
        let served = server.served
        #expect(served.prefix { $0.id < warmupCount }.count == warmupCount)
        let firstMeasured = try #require(served.first { $0.id >= warmupCount })
        switch kind {
        case .sync: #expect(firstMeasured.acceptedConnections == 1)
        case .threaded, .async: #expect(firstMeasured.acceptedConnections == 8)
        case .asyncAHC, .asyncCurl: #expect(firstMeasured.acceptedConnections >= 1)  // a shared pool may reuse one
        }
    }

    @Test("without warm-up there is no barrier and no warm-up request", arguments: EngineKind.allCases)
    func noWarmup(kind: EngineKind) async throws {
        let server = try RawTestServer(.http { _, _ in 200 })
        let sink = CollectingSink()
        let configuration = EngineConfiguration(baseURL: server.baseURL, concurrency: 8, requests: 20)
        let summary = try await makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
        expectAccounting(sink.all, total: 20)
        #expect(!sink.all.contains { $0.isWarmup })
        #expect(summary.warmupRequests == 0 && summary.measuredRequests == 20 && summary.completedRequests == 20)
    }

    @Test(
        "cancelling while workers wait at the barrier releases them; measured requests end unsent",
        arguments: EngineKind.allCases)
    func cancelAtBarrier(kind: EngineKind) async throws {
        // Warm-up request 0 hangs for 5 s; the others are answered at once, so their workers wait at the barrier.
        let server = try RawTestServer(
            .http { id, _ in
                if id == 0 { Thread.sleep(forTimeInterval: 5) }
                return 200
            })
        let sink = CollectingSink()
        let configuration = EngineConfiguration(
            baseURL: server.baseURL, concurrency: 4, requests: 10, warmupRequests: 1, requestTimeout: .seconds(50),
            shutdownGrace: .milliseconds(100))
        let warmupCount = kind == .sync ? 1 : 4
        let run = Task { try await makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: sink) }
        while server.servedRequests < warmupCount { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(50))
        let cancelledAt = ContinuousClock.now
        run.cancel()
        let summary = try await run.value
        #expect(ContinuousClock.now - cancelledAt < .seconds(3), "the run waited for the hung warm-up request")
        expectAccounting(sink.all, total: warmupCount + 10)
        #expect(summary.completedRequests == warmupCount + 10)
        #expect(summary.warmupRequests == warmupCount && summary.measuredRequests == 10)
        let measured = sink.all.filter { !$0.isWarmup }
        #expect(measured.allSatisfy { $0.errorClass == .cancelled && $0.startNs == $0.endNs })
        #expect(server.servedRequests == warmupCount)
    }
}
