import AsyncPatterns
import Foundation
import TestSupport
import Testing

@testable import MockServer

@Suite(.timeLimit(.minutes(1))) struct FaultTests {
    private func failing(_ kind: MockServerConfiguration.FaultKind) -> MockServerConfiguration {
        MockServerConfiguration(
            errorRate: 1, faults: .only(kind), spikeMs: 60,
            rateLimit: .init(retryAfterMinSeconds: 3, retryAfterMaxSeconds: 7))
    }

    @Test(arguments: [(MockServerConfiguration.FaultKind.status500, 500), (.status503, 503), (.status429, 429)])
    func statusFaults(kind: MockServerConfiguration.FaultKind, status: Int) async throws {
        try await withRunningMockServer(failing(kind)) { server in
            let port = server.port
            let response = try await onThread { try httpGet(port: port, "/get", headers: [("X-Request-Id", "a")]) }
            #expect(response.status == status)
            if kind == .status429 {
                #expect(response.header("Retry-After").flatMap(Int.init).map { (3...7).contains($0) } == true)
            }
            // /health is never failed.
            let status1 = try await onThread { try httpGet(port: port, "/health").status }
            #expect(status1 == 200)
            let counters = server.counters()
            #expect(counters.byFault[kind.rawValue] == 1)
            #expect(counters.byStatus[String(status)] == 1)
        }
    }

    @Test func spikeAddsLatencyAndAnswers200() async throws {
        try await withRunningMockServer(failing(.spike)) { server in
            let port = server.port
            let response = try await onThread { try httpGet(port: port, "/get") }
            #expect(response.status == 200)
            let counters = server.counters()
            #expect(counters.byFault["spike"] == 1)
            #expect(counters.serviceTime.maxNs >= 60_000_000)
        }
    }

    @Test func resetClosesTheConnectionWithoutAnswer() async throws {
        try await withRunningMockServer(failing(.reset)) { server in
            let port = server.port
            let outcome = try await onThread {
                let connection = try TestConnection(port: port)
                try connection.send("GET /get HTTP/1.1\r\nHost: x\r\n\r\n")
                return connection.waitForClose()
            }
            #expect(outcome == "reset")
            #expect(server.counters().byFault["reset"] == 1)
            let status2 = try await onThread { try httpGet(port: port, "/health").status }
            #expect(status2 == 200)
        }
    }

    @Test func hangNeverAnswersAndTheServerGoesOn() async throws {
        try await withRunningMockServer(failing(.hang)) { server in
            let port = server.port
            let outcome = try await onThread {
                let connection = try TestConnection(port: port, timeout: 0.3)
                try connection.send("GET /get HTTP/1.1\r\nHost: x\r\n\r\n")
                return connection.waitForClose()
            }
            #expect(outcome == "timeout")
            #expect(server.counters().byFault["hang"] == 1)
            let status3 = try await onThread { try httpGet(port: port, "/health").status }
            #expect(status3 == 200)
        }
    }

    @Test func faultMixIsDeterministicPerRequest() async throws {
        let mix = MockServerConfiguration.FaultMix(status500: 1, status503: 1, status429: 1)
        try await withRunningMockServer(.init(seed: 11, errorRate: 0.5, faults: mix)) { server in
            let port = server.port
            let statuses = try await onThread {
                let connection = try TestConnection(port: port)
                return try (0..<60).map { i in
                    try connection.get("/get?request_id=q\(i)&attempt=2").status
                }
            }
            let expected = (0..<60).map { i -> Int in
                guard MockServer.shouldFail(seed: 11, requestID: "q\(i)", attempt: 2, errorRate: 0.5) else {
                    return 200
                }
                return Int(MockServer.faultKind(seed: 11, requestID: "q\(i)", attempt: 2, mix: mix).rawValue)!
            }
            #expect(statuses == expected)
            #expect(Set(statuses) == [200, 500, 503, 429])
        }
    }

    @Test func scheduleSwitchesPhasesOverTime() async throws {
        let configuration = MockServerConfiguration(schedule: [
            .init(name: "healthy", durationMs: 200), .init(name: "down", durationMs: 60_000, errorRate: 1),
        ])
        try await withRunningMockServer(configuration) { server in
            let port = server.port
            // The first phase lasts 200 ms: a request after 300 ms arrives in the second one.
            try await Task.sleep(for: .milliseconds(300))
            let late = try await onThread { try httpGet(port: port, "/get") }
            #expect(late.status == 500)
            #expect(server.counters().byPhase == ["down": 1])
            // Applying a configuration restarts the schedule clock.
            try server.apply(
                .init(schedule: [.init(name: "up", durationMs: 60_000), .init(durationMs: 1, errorRate: 1)]))
            let again = try await onThread { try httpGet(port: port, "/get") }
            #expect(again.status == 200)
            #expect(server.counters().byPhase == ["down": 1, "up": 1])
        }
    }

    /// With the limit of 2 requests in service, every further request is answered 503 at once, and the two
    /// admitted ones stay in service. Ordered by the server's own counters, not by time: the admitted requests'
    /// latency (60 s) outlasts any scheduling delay, and shutting the server down ends them.
    @Test func capacityRejectsAboveTheLimit() async throws {
        let configuration = MockServerConfiguration(
            latency: .fixed(ms: 60_000), capacity: .init(limit: 2, whenFull: .reject), shutdownGraceMs: 0)
        let server = try await MockServer.start(configuration)
        let port = server.port
        let admitted = TestList<String>()
        let admittedDone = Task {
            await onThreads(2, count: 2) { _ in admitted.append(requestOutcome(port: port, "/get", timeout: 90)) }
        }
        let inService = await waitUntil { server.counters().inFlight == 2 }
        let rejected = try await onThread { (0..<3).map { _ in requestOutcome(port: port, "/get") } }
        let counters = server.counters()
        try await server.shutdown()
        await admittedDone.value

        #expect(inService, "the two admitted requests never were in service together")
        #expect(rejected == ["503", "503", "503"])
        #expect(counters.byFault["overload"] == 3)
        #expect(counters.byStatus == ["503": 3])
        #expect(counters.peakInFlight == 2)
        #expect(counters.inFlight == 2)
        // The admitted requests were never answered 503: they were in service until the server stopped.
        #expect(admitted.all.count == 2)
        #expect(admitted.all.allSatisfy { ["closed", "reset"].contains($0) }, "\(admitted.all)")
    }

    @Test func capacityQueuesAboveTheLimit() async throws {
        let configuration = MockServerConfiguration(latency: .fixed(ms: 20), capacity: .init(limit: 1))
        try await withRunningMockServer(configuration) { server in
            let port = server.port
            let statuses = TestList<Int>()
            await onThreads(6, count: 12) { _ in
                statuses.append((try? httpGet(port: port, "/get").status) ?? -1)
            }
            #expect(statuses.all == Array(repeating: 200, count: 12))
            let counters = server.counters()
            #expect(counters.peakInFlight == 1)
            #expect(counters.inFlight == 0 && counters.queued == 0)
            #expect(counters.serviceTime.count == 12)
            #expect(counters.wasted == 0, "every client waited for its answer")
        }
    }

    /// Work goes on after the client gives up: a queued request whose client closed its connection is still served
    /// when its turn comes, and counted as wasted.
    @Test func aRequestWhoseClientGaveUpIsServedAndCountedAsWasted() async throws {
        let configuration = MockServerConfiguration(latency: .fixed(ms: 300), capacity: .init(limit: 1))
        try await withRunningMockServer(configuration) { server in
            let port = server.port
            let first = Task { try await onThread { requestOutcome(port: port, "/get", timeout: 10) } }
            #expect(await waitUntil { server.counters().inFlight == 1 })
            // The second waits in the queue behind the first and gives up after 50 ms, closing its connection.
            let second = try await onThread { requestOutcome(port: port, "/get", timeout: 0.05) }
            #expect(try await first.value == "200")
            #expect(second != "200")
            #expect(await waitUntil { server.counters().serviceTime.count == 2 })
            let counters = server.counters()
            #expect(counters.byStatus["200"] == 2, "the abandoned request was served all the same")
            #expect(counters.wasted == 1)
        }
    }

    /// The server's draws for one attempt share one hash of (seed, id, attempt), each extended with its salt: they
    /// must equal what the separate four-value hashes drew before, or every seeded result would change.
    @Test func anAttemptKeyDrawsWhatTheSeparateHashesDrew() {
        let mix = MockServerConfiguration.FaultMix(
            status500: 1, status503: 1, status429: 1, spike: 1, reset: 1, hang: 1)
        for (seed, id, attempt) in [(UInt64(42), "17", 1), (7, "r-3", 2), (0, "123456789", 5)] {
            let idHash = StableHash.hash(id)
            let key = MockServer.AttemptKey(seed: seed, idHash: idHash, attempt: attempt)
            let bits = UInt64(attempt)
            func salted(_ salt: UInt64) -> UInt64 { StableHash.combine(seed, idHash, bits, salt) }
            #expect(key.failureUnit == SplitMix64.unitInterval(StableHash.combine(seed, idHash, bits)))
            #expect(key.faultKind(mix: mix) == mix.pick(unit: SplitMix64.unitInterval(salted(0xFA17_0000_0000_0001))))
            var generator = key.latencyGenerator
            var expected = SplitMix64(seed: salted(0x1A7E_0000_0000_0002))
            #expect(generator.next() == expected.next())
            #expect(key.retryAfterSeconds(range: 1...30) == 1 + Int(salted(0x4E7A_0000_0000_0003) % 30))
        }
    }
}
