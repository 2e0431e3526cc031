import AsyncPatterns
import Foundation
import TestSupport
import Testing

@testable import MockServer

@Suite(.timeLimit(.minutes(1))) struct DeterminismTests {
    static let ids = (0..<400).map { "req-\($0)" }
    static let configuration = MockServerConfiguration(seed: 42, latency: .uniform(ms: 1, jitter: 0.5), errorRate: 0.3)

    /// The ids whose request failed, asked in `order` by `concurrency` threads, on a fresh server.
    private func failingIDs(order: [Int], concurrency: Int, attempt: Int = 1) async throws -> Set<String> {
        try await withMockServer(Self.configuration) { baseURL in
            let port = port(of: baseURL)
            let failed = TestList<String>()
            let errors = TestList<String>()
            await onThreads(concurrency, count: order.count) { position in
                let id = Self.ids[order[position]]
                do {
                    let response = try httpGet(
                        port: port, "/get", headers: [("X-Request-Id", id), ("X-Attempt", String(attempt))])
                    if response.status == 500 { failed.append(id) } else if response.status != 200 { errors.append(id) }
                } catch {
                    errors.append("\(id): \(error)")
                }
            }
            #expect(errors.all.isEmpty)
            return Set(failed.all)
        }
    }

    @Test func sameSeedFailsTheSameRequestsAtAnyConcurrencyAndOrder() async throws {
        let inOrder = Array(Self.ids.indices)
        var generator = SplitMix64(seed: 99)
        let shuffled = inOrder.shuffled(using: &generator)
        #expect(shuffled != inOrder)

        let sequential = try await failingIDs(order: inOrder, concurrency: 1)
        let concurrent = try await failingIDs(order: shuffled, concurrency: 64)
        let expected = Set(
            Self.ids.filter { MockServer.shouldFail(seed: 42, requestID: $0, attempt: 1, errorRate: 0.3) })

        #expect(sequential == expected)
        #expect(concurrent == expected)
        #expect((80...160).contains(expected.count))
    }

    @Test func requestsWithoutAnIdFailByArrivalOrder() async throws {
        func statuses() async throws -> [Int] {
            try await withMockServer(Self.configuration) { baseURL in
                let port = port(of: baseURL)
                return try await onThread {
                    let connection = try TestConnection(port: port)
                    return try (0..<100).map { _ in try connection.get("/get").status }
                }
            }
        }
        let first = try await statuses()
        let second = try await statuses()
        #expect(first == second)
        #expect(first.contains(500) && first.contains(200))
    }

    @Test func queryParametersCarryTheIdentityToo() async throws {
        try await withMockServer(Self.configuration) { baseURL in
            let port = port(of: baseURL)
            let statuses = try await onThread {
                let connection = try TestConnection(port: port)
                return try Self.ids.prefix(100).map { id in
                    try connection.get("/get?request_id=\(id)&attempt=%203").status
                }
            }
            let expected = Self.ids.prefix(100).map { id in
                MockServer.shouldFail(seed: 42, requestID: id, attempt: 3, errorRate: 0.3) ? 500 : 200
            }
            #expect(statuses == expected)
        }
    }
}
