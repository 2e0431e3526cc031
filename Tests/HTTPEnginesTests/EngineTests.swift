import AsyncPatterns
import Foundation
import HTTPEngines
import TestSupport
import Testing

@Suite("Engines against a raw loopback server", .timeLimit(.minutes(1)))
struct EngineTests {
    @Test("every logical request gets exactly one final sample", arguments: EngineKind.allCases)
    func closedLoopAccounting(kind: EngineKind) async throws {
        let server = try RawTestServer(.http { _, _ in 200 })
        let sink = CollectingSink()
        let configuration = EngineConfiguration(
            baseURL: server.baseURL, path: "/get", concurrency: 4, requests: 40, warmupRequests: 5)
        let summary = try await makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
        let samples = sink.all
        expectAccounting(samples, total: 45)
        #expect(samples.count == 45)
        #expect(samples.allSatisfy { $0.errorClass == .ok && $0.status == 200 && $0.bytes == 2 })
        #expect(samples.filter(\.isWarmup).map(\.requestID).sorted() == Array(0..<5))
        #expect(samples.allSatisfy { $0.intendedNs == $0.startNs && $0.startNs <= $0.endNs })
        #expect(summary.completedRequests == 45)
        #expect(server.servedRequests == 45)
        #expect(server.acceptedConnections <= (kind == .sync ? 1 : 4))
    }

    @Test("retries are separate samples and the last one is final", arguments: EngineKind.allCases)
    func retriesCounted(kind: EngineKind) async throws {
        // Requests whose id is a multiple of 3 fail with 503 on attempts 1 and 2.
        let server = try RawTestServer(.http { id, attempt in id % 3 == 0 && attempt < 3 ? 503 : 200 })
        let sink = CollectingSink()
        let configuration = EngineConfiguration(baseURL: server.baseURL, concurrency: 3, requests: 30)
        _ = try await makeEngine(kind).run(configuration, policy: RetryNTimesPolicy(maxAttempts: 5), sink: sink)
        let samples = sink.all
        expectAccounting(samples, total: 30)
        #expect(samples.count == 30 + 2 * 10)
        #expect(sink.finals.allSatisfy { $0.errorClass == .ok })
        #expect(samples.filter { $0.errorClass == .http5xx }.allSatisfy { $0.requestID % 3 == 0 && !$0.isFinal })
        #expect(server.servedRequests == 50)
    }

    @Test("admission rejections and give-ups end requests with the policy's class", arguments: EngineKind.allCases)
    func rejectAndGiveUp(kind: EngineKind) async throws {
        let server = try RawTestServer(.http { id, _ in id % 4 == 1 ? 500 : 200 })
        let sink = CollectingSink()
        let configuration = EngineConfiguration(baseURL: server.baseURL, concurrency: 2, requests: 20)
        _ = try await makeEngine(kind).run(configuration, policy: RejectEvenGiveUpPolicy(), sink: sink)
        expectAccounting(sink.all, total: 20)
        for sample in sink.finals {
            switch sample.requestID % 4 {
            case 0, 2: #expect(sample.errorClass == .circuitOpen && sample.attempt == 1 && sample.status == 0)
            case 1: #expect(sample.errorClass == .budgetExhausted && sample.attempt == 2)
            default: #expect(sample.errorClass == .ok)
            }
        }
        #expect(server.servedRequests == 10)
    }

    @Test("connection refused from the start ends every request as refused", arguments: EngineKind.allCases)
    func refused(kind: EngineKind) async throws {
        let port = try closedPort()
        let sink = CollectingSink()
        let configuration = EngineConfiguration(
            baseURL: "http://127.0.0.1:\(port)", concurrency: 4, requests: 20, connectTimeout: .seconds(5),
            requestTimeout: .seconds(10))
        _ = try await makeEngine(kind).run(configuration, policy: RetryNTimesPolicy(maxAttempts: 2), sink: sink)
        expectAccounting(sink.all, total: 20)
        #expect(sink.all.count == 40)
        #expect(
            sink.all.allSatisfy { $0.errorClass == .refused && $0.status == 0 },
            "classes seen: \(Set(sink.all.map(\.errorClass)))")
    }

    @Test("a server that never answers ends every request as a timeout", arguments: EngineKind.allCases)
    func neverAnswers(kind: EngineKind) async throws {
        let server = try RawTestServer(.silent)
        let sink = CollectingSink()
        let configuration = EngineConfiguration(
            baseURL: server.baseURL, concurrency: 4, requests: 8, connectTimeout: .seconds(1),
            requestTimeout: .milliseconds(300))
        _ = try await makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
        expectAccounting(sink.all, total: 8)
        #expect(sink.all.allSatisfy { $0.errorClass == .timeout })
        // Each attempt ends near its timeout, never far past it (generous bound: no timing flakiness).
        #expect(sink.all.allSatisfy { $0.latencyNs >= 250_000_000 && $0.latencyNs < 5_000_000_000 })
        server.kill()
    }

    @Test("a server killed mid-run still leaves every request with one final outcome", arguments: EngineKind.allCases)
    func killedMidRun(kind: EngineKind) async throws {
        let server = try RawTestServer(.http { _, _ in 200 }, killAfter: 20)
        let sink = CollectingSink()
        let configuration = EngineConfiguration(
            baseURL: server.baseURL, concurrency: 4, requests: 400, connectTimeout: .seconds(1),
            requestTimeout: .seconds(2))
        async let run = makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
        let summary = try await run
        expectAccounting(sink.all, total: 400)
        #expect(summary.completedRequests == 400)
        let classes = Set(sink.finals.map(\.errorClass))
        #expect(classes.isSubset(of: [.ok, .refused, .reset, .timeout]))
        #expect(classes.contains(.refused) || classes.contains(.reset))
    }

    @Test("naive pooling opens one connection per request", arguments: EngineKind.allCases)
    func naiveConnections(kind: EngineKind) async throws {
        let server = try RawTestServer(.http { _, _ in 200 })
        let sink = CollectingSink()
        let configuration = EngineConfiguration(
            baseURL: server.baseURL, concurrency: 4, pooling: .naive, requests: 30)
        _ = try await makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
        expectAccounting(sink.all, total: 30)
        #expect(sink.all.allSatisfy { $0.errorClass == .ok })
        #expect(server.acceptedConnections == 30)
    }

    @Test("the open loop keeps to its schedule and records intended times", arguments: EngineKind.allCases)
    func openLoopSchedule(kind: EngineKind) async throws {
        let server = try RawTestServer(.http { _, _ in 200 })
        let sink = CollectingSink()
        let configuration = EngineConfiguration(
            baseURL: server.baseURL, concurrency: 4, load: .openFixed(rate: 1000), requests: 50)
        let summary = try await makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
        let samples = sink.all.sorted { $0.requestID < $1.requestID }
        expectAccounting(samples, total: 50)
        let origin = samples[0].intendedNs
        for sample in samples {
            #expect(sample.intendedNs == origin + sample.requestID * 1_000_000)
            #expect(sample.startNs >= sample.intendedNs)
            #expect(sample.correctedLatencyNs >= sample.latencyNs)
        }
        #expect(summary.maxLateness >= .zero)
    }

    @Test("Poisson arrivals are fixed by the seed", arguments: EngineKind.allCases)
    func poissonSeeded(kind: EngineKind) async throws {
        let server = try RawTestServer(.http { _, _ in 200 })
        func offsets(seed: UInt64) async throws -> [Int64] {
            let sink = CollectingSink()
            let configuration = EngineConfiguration(
                baseURL: server.baseURL, concurrency: 2, load: .openPoisson(rate: 2000), requests: 30, seed: seed)
            _ = try await makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
            let samples = sink.all.sorted { $0.requestID < $1.requestID }
            return samples.map { $0.intendedNs - samples[0].intendedNs }
        }
        let first = try await offsets(seed: 7)
        #expect(try await offsets(seed: 7) == first)
        #expect(try await offsets(seed: 8) != first)
        #expect(zip(first, first.dropFirst()).allSatisfy { $0 <= $1 })
    }

    @Test("cancelling a run still gives every request one final outcome", arguments: EngineKind.allCases)
    func cancelledRun(kind: EngineKind) async throws {
        let server = try RawTestServer(
            .http { _, _ in
                Thread.sleep(forTimeInterval: 0.002)
                return 200
            })
        let sink = CollectingSink()
        let configuration = EngineConfiguration(baseURL: server.baseURL, concurrency: 2, requests: 5000)
        let run = Task { try await makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: sink) }
        while server.servedRequests < 10 { try await Task.sleep(for: .milliseconds(1)) }
        run.cancel()
        let summary = try await run.value
        expectAccounting(sink.all, total: 5000)
        #expect(summary.completedRequests == 5000)
        #expect(sink.finals.contains { $0.errorClass == .cancelled })
    }
}

@Suite("Run length by duration", .timeLimit(.minutes(1)))
struct DurationTests {
    @Test("a timed run stops starting requests and accounts for every one it started", arguments: EngineKind.allCases)
    func timedClosedLoop(kind: EngineKind) async throws {
        let server = try RawTestServer(.http { _, _ in 200 })
        let sink = CollectingSink()
        let configuration = EngineConfiguration(
            baseURL: server.baseURL, concurrency: 2, requests: 10_000_000, duration: .seconds(1))
        let summary = try await makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
        let started = summary.completedRequests
        // Under a loaded test run the time may even pass before the first request: 0 started is legitimate.
        #expect(started < 10_000_000)
        expectAccounting(sink.all, total: started)
    }

    @Test("a timed open-loop run schedules nothing past its end", arguments: EngineKind.allCases)
    func timedOpenLoop(kind: EngineKind) async throws {
        let server = try RawTestServer(.http { _, _ in 200 })
        let sink = CollectingSink()
        let configuration = EngineConfiguration(
            baseURL: server.baseURL, concurrency: 2, load: .openFixed(rate: 200), requests: 10_000,
            duration: .milliseconds(100))
        let summary = try await makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
        // 200/s for 100 ms schedules exactly ids 0..<20 (intended offsets 0, 5, ..., 95 ms).
        #expect(summary.completedRequests == 20)
        expectAccounting(sink.all, total: 20)
    }
}

@Suite("Shutdown", .timeLimit(.minutes(1)))
struct ShutdownTests {
    @Test(
        "cancelling aborts hung attempts after the grace period, long before their timeout",
        arguments: EngineKind.allCases)
    func graceThenAbort(kind: EngineKind) async throws {
        let server = try RawTestServer(.silent)
        let sink = CollectingSink()
        let configuration = EngineConfiguration(
            baseURL: server.baseURL, concurrency: 2, requests: 10, requestTimeout: .seconds(50),
            shutdownGrace: .milliseconds(100))
        let expectedInFlight = kind == .sync ? 1 : 2
        let run = Task { try await makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: sink) }
        while server.acceptedConnections < expectedInFlight { try await Task.sleep(for: .milliseconds(5)) }
        run.cancel()
        let summary = try await run.value
        server.kill()
        expectAccounting(sink.all, total: 10)
        #expect(summary.completedRequests == 10)
        #expect(sink.all.allSatisfy { $0.errorClass == .cancelled })
        // The hung attempts were sent, then aborted: they carry a real start time and end well before 50 s.
        #expect(sink.all.filter { $0.endNs > $0.startNs }.count == expectedInFlight)
        #expect(sink.all.allSatisfy { $0.latencyNs < 20_000_000_000 })
    }
}
