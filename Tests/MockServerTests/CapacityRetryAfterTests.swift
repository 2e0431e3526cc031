import Foundation
import TestSupport
import Testing

@testable import MockServer

/// `capacity.retryAfter`: the `Retry-After` header of over-capacity 503s (none, fixed, or drawn per request).
@Suite(.timeLimit(.minutes(1))) struct CapacityRetryAfterTests {
    typealias RetryAfter = MockServerConfiguration.RetryAfter

    /// Holds one request in service (capacity 1, 60 s of latency), then sends one request per id, each answered
    /// 503 at once; returns their `Retry-After` headers in order. The held request ends when the server stops.
    private func rejectedRetryAfters(_ retryAfter: RetryAfter, seed: UInt64 = 1, ids: [String]) async throws
        -> [String?]
    {
        let configuration = MockServerConfiguration(
            seed: seed, latency: .fixed(ms: 60_000),
            capacity: .init(limit: 1, whenFull: .reject, retryAfter: retryAfter), shutdownGraceMs: 0)
        let server = try await MockServer.start(configuration)
        let port = server.port
        let held = Task { try? await onThread { requestOutcome(port: port, "/get", timeout: 90) } }
        let inService = await waitUntil { server.counters().inFlight == 1 }
        let responses = try await onThread {
            try ids.map { id in try httpGet(port: port, "/get", headers: [("X-Request-Id", id), ("X-Attempt", "1")]) }
        }
        let counters = server.counters()
        try await server.shutdown()
        _ = await held.value

        #expect(inService, "the first request never was in service")
        #expect(responses.allSatisfy { $0.status == 503 }, "\(responses.map(\.status))")
        #expect(counters.byFault["overload"] == UInt64(ids.count))
        return responses.map { $0.header("Retry-After") }
    }

    private let ids = (0..<40).map { "request-\($0)" }

    @Test func noneSendsNoHeader() async throws {
        let headers = try await rejectedRetryAfters(.none, ids: Array(ids.prefix(3)))
        #expect(headers == [nil, nil, nil])
    }

    @Test func theDefaultSendsNoHeader() {
        #expect(MockServerConfiguration.Capacity().retryAfter == .none)
    }

    @Test func fixedSendsThatValue() async throws {
        let headers = try await rejectedRetryAfters(.fixed(seconds: 7), ids: Array(ids.prefix(3)))
        #expect(headers == ["7", "7", "7"])
    }

    @Test func rangeDrawsWithinBoundsAndIsReproducibleForTheSameSeed() async throws {
        let range = RetryAfter.uniform(minSeconds: 2, maxSeconds: 4)
        let first = try await rejectedRetryAfters(range, seed: 11, ids: ids)
        let again = try await rejectedRetryAfters(range, seed: 11, ids: ids)
        let seconds = first.map { $0.flatMap(Int.init) }
        #expect(seconds.allSatisfy { $0.map { (2...4).contains($0) } == true }, "\(first)")
        // 40 uniform draws over 3 values miss one with probability about 3·(2/3)^40 < 1e-6.
        #expect(Set(seconds.compactMap { $0 }) == [2, 3, 4])
        #expect(again == first, "the same seed and request ids give the same draws")
    }

    @Test func rangeDrawsDependOnTheSeed() async throws {
        let range = RetryAfter.uniform(minSeconds: 1, maxSeconds: 1000)
        let one = try await rejectedRetryAfters(range, seed: 1, ids: Array(ids.prefix(10)))
        let other = try await rejectedRetryAfters(range, seed: 2, ids: Array(ids.prefix(10)))
        #expect(one != other)
    }

    @Test(arguments: [
        (#"{"capacity":{}}"#, RetryAfter.none),
        (#"{"capacity":{"retryAfter":null}}"#, .none),
        (#"{"capacity":{"retryAfter":"none"}}"#, .none),
        (#"{"capacity":{"retryAfter":0}}"#, .fixed(seconds: 0)),
        (#"{"capacity":{"retryAfter":3}}"#, .fixed(seconds: 3)),
        (#"{"capacity":{"retryAfter":{"min":1,"max":5}}}"#, .uniform(minSeconds: 1, maxSeconds: 5)),
        (#"{"capacity":{"retryAfter":{"min":2,"max":2}}}"#, .uniform(minSeconds: 2, maxSeconds: 2)),
    ])
    func jsonForms(json: String, expected: RetryAfter) throws {
        let configuration = try MockServerConfiguration.decode(json: Data(json.utf8))
        #expect(configuration.capacity.retryAfter == expected)
        let again = try MockServerConfiguration.decode(json: Data(configuration.jsonString().utf8))
        #expect(again == configuration, "round-trips through JSON")
    }

    @Test(arguments: [
        (#"{"capacity":{"retryAfter":"soon"}}"#, ["capacity.retryAfter", "soon", "none"]),
        (#"{"capacity":{"retryAfter":-1}}"#, ["capacity.retryAfter", "-1", "whole seconds"]),
        (#"{"capacity":{"retryAfter":1.5}}"#, ["capacity.retryAfter", "1.5", "whole seconds"]),
        (#"{"capacity":{"retryAfter":true}}"#, ["capacity.retryAfter", "allowed"]),
        (#"{"capacity":{"retryAfter":[1,2]}}"#, ["capacity.retryAfter", "allowed"]),
        (#"{"capacity":{"retryAfter":{"min":1}}}"#, ["capacity.retryAfter.max", "missing"]),
        (#"{"capacity":{"retryAfter":{"min":5,"max":1}}}"#, ["capacity.retryAfter.max", "1", ">= min"]),
        (#"{"capacity":{"retryAfter":{"min":1,"max":2,"mean":1}}}"#, ["capacity.retryAfter.mean", "min, max"]),
        (#"{"capacity":{"retryAfterSeconds":1}}"#, ["capacity.retryAfterSeconds", "retryAfter"]),
    ])
    func badValuesNameTheKeyTheValueAndWhatIsAllowed(json: String, mentioned: [String]) {
        #expect {
            _ = try MockServerConfiguration.decode(json: Data(json.utf8))
        } throws: { error in
            let description = (error as? MockServerConfigurationError)?.description ?? ""
            return mentioned.allSatisfy { description.contains($0) }
        }
    }

    @Test func validateRejectsAnInvertedRangeBuiltInCode() {
        let configuration = MockServerConfiguration(
            capacity: .init(limit: 1, whenFull: .reject, retryAfter: .uniform(minSeconds: 3, maxSeconds: 1)))
        #expect(
            throws: MockServerConfigurationError.invalid(
                key: "capacity.retryAfter.max", value: "1", allowed: "whole seconds >= min (3)")
        ) {
            try configuration.validate()
        }
    }
}
