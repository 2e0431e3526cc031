import AsyncPatterns
import HTTPEngines
import MockServer
import Synchronization
import Testing

/// Remembers every outcome the engine reported, to check what reached the policy.
final class RecordingPolicy: AttemptPolicy {
    private let outcomes = Mutex<[AttemptOutcome]>([])
    func admit(requestID: Int64, attempt: Int32) -> Admission { .proceed }
    func complete(requestID: Int64, attempt: Int32, outcome: AttemptOutcome) -> AttemptDecision {
        outcomes.withLock { $0.append(outcome) }
        return .finish
    }
    var all: [AttemptOutcome] { outcomes.withLock { $0 } }
}

/// The (request id, attempt, class) triples of a run: what the mock server's seeded faults decide.
private struct Key: Hashable {
    var id: Int64
    var attempt: Int32
    var errorClass: ErrorClass
}

@Suite("Engines against the mock server", .timeLimit(.minutes(1)))
struct MockServerEngineTests {
    @Test("seeded faults and retries: one final per request, attempts counted, same faults in every engine")
    func errorRateWithRetries() async throws {
        let server = MockServerConfiguration(seed: 42, errorRate: 0.3)
        var keysByEngine: [EngineKind: Set<Key>] = [:]
        for kind in EngineKind.allCases {
            try await withRunningMockServer(server) { running in
                let sink = CollectingSink()
                let configuration = EngineConfiguration(baseURL: running.baseURL, concurrency: 4, requests: 60)
                _ = try await makeEngine(kind).run(configuration, policy: RetryNTimesPolicy(maxAttempts: 3), sink: sink)
                let samples = sink.all
                expectAccounting(samples, total: 60)
                #expect(samples.filter { !$0.isFinal }.allSatisfy { $0.errorClass == .http5xx && $0.status == 500 })
                #expect(sink.finals.allSatisfy { $0.errorClass == .ok || $0.attempt == 3 })
                #expect(samples.contains { $0.attempt > 1 }, "a 30% error rate makes some retries")
                #expect(running.counters().requests == UInt64(samples.count))
                keysByEngine[kind] = Set(
                    samples.map { Key(id: $0.requestID, attempt: $0.attempt, errorClass: $0.errorClass) })
            }
        }
        #expect(keysByEngine[.sync] == keysByEngine[.threaded])
        #expect(keysByEngine[.sync] == keysByEngine[.async])
        #expect(keysByEngine[.sync] == keysByEngine[.asyncCurl])
    }

    @Test("naive mode: the server accepts one connection per request", arguments: EngineKind.allCases)
    func naiveConnectionCount(kind: EngineKind) async throws {
        try await withRunningMockServer { running in
            let sink = CollectingSink()
            let configuration = EngineConfiguration(
                baseURL: running.baseURL, path: "/health", concurrency: 4, pooling: .naive, requests: 40)
            _ = try await makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
            expectAccounting(sink.all, total: 40)
            #expect(sink.all.allSatisfy { $0.errorClass == .ok })
            #expect(running.counters().connections == 40)
            #expect(running.counters().requests == 40)
        }
    }

    @Test("pooled mode reuses at most one connection per worker", arguments: EngineKind.allCases)
    func pooledConnectionCount(kind: EngineKind) async throws {
        try await withRunningMockServer { running in
            let configuration = EngineConfiguration(
                baseURL: running.baseURL, path: "/health", concurrency: 4, requests: 40)
            _ = try await makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: CollectingSink())
            #expect(running.counters().connections <= (kind == .sync ? 1 : 4))
            #expect(running.counters().requests == 40)
        }
    }

    @Test("status classes, body bytes and Retry-After reach the sample and the policy", arguments: EngineKind.allCases)
    func statusAndRetryAfter(kind: EngineKind) async throws {
        let server = MockServerConfiguration(
            rateLimit: .init(after: 0, retryAfterMinSeconds: 7, retryAfterMaxSeconds: 7))
        try await withMockServer(server) { baseURL in
            for (path, expected) in [("/status/404", ErrorClass.http4xx), ("/status/503", .http5xx), ("/get", .ok)] {
                let sink = CollectingSink()
                let configuration = EngineConfiguration(baseURL: baseURL, path: path, concurrency: 2, requests: 4)
                _ = try await makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
                #expect(sink.all.allSatisfy { $0.errorClass == expected }, "\(path)")
                if expected == .ok { #expect(sink.all.allSatisfy { $0.bytes > 0 }) }
            }
            let policy = RecordingPolicy()
            let configuration = EngineConfiguration(baseURL: baseURL, path: "/429", concurrency: 2, requests: 4)
            _ = try await makeEngine(kind).run(configuration, policy: policy, sink: CollectingSink())
            #expect(policy.all.count == 4)
            #expect(policy.all.allSatisfy { $0.errorClass == .http429 && $0.status == 429 && $0.retryAfter == "7" })
        }
    }
}

@Suite("Open loop above capacity", .timeLimit(.minutes(1)))
struct OpenLoopLatenessTests {
    @Test("an engine that cannot keep the schedule reports how far behind it fell", arguments: EngineKind.allCases)
    func latenessReported(kind: EngineKind) async throws {
        // One request in flight at a time against 5 ms of latency cannot keep 1000/s: request 19 is scheduled
        // at 19 ms but cannot start before 19 * 5 = 95 ms.
        try await withMockServer(MockServerConfiguration(latency: .fixed(ms: 5))) { baseURL in
            let sink = CollectingSink()
            let configuration = EngineConfiguration(
                baseURL: baseURL, concurrency: 1, load: .openFixed(rate: 1000), requests: 20)
            let summary = try await makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
            expectAccounting(sink.all, total: 20)
            #expect(summary.maxLateness >= .milliseconds(60))
            let last = try #require(sink.all.first { $0.requestID == 19 })
            #expect(last.startNs - last.intendedNs >= 60_000_000)
            #expect(last.correctedLatencyNs > last.latencyNs)
        }
    }
}

@Suite("High concurrency smoke", .timeLimit(.minutes(1)))
struct HighConcurrencyTests {
    @Test(
        "hundreds of workers run to completion with one connection each",
        arguments: [
            (EngineKind.threaded, 256), (.async, 512), (.asyncCurl, 512),
        ])
    func manyWorkers(kind: EngineKind, concurrency: Int) async throws {
        try await withRunningMockServer(MockServerConfiguration(latency: .fixed(ms: 20))) { running in
            let sink = CollectingSink()
            let configuration = EngineConfiguration(
                baseURL: running.baseURL, concurrency: concurrency, requests: concurrency * 2,
                connectTimeout: .seconds(20), requestTimeout: .seconds(30))
            let summary = try await makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
            expectAccounting(sink.all, total: concurrency * 2)
            #expect(summary.completedRequests == concurrency * 2)
            #expect(sink.all.allSatisfy { $0.errorClass == .ok })
            #expect(running.counters().connections <= UInt64(concurrency))
        }
    }
}
