import Foundation
import Synchronization
import TestSupport
import Testing

@testable import AsyncPatterns

/// What a simulated engine saw for one logical request.
struct RequestResult: Equatable {
    var final: ErrorClass
    /// Samples recorded (a give-up adds one, as the AttemptPolicy contract says).
    var samples: Int32
    var delays: [Duration]
}

/// Drives `policy` the way an engine does for one logical request, asking `server` for each attempt's outcome.
/// Retry delays are not slept; when `clock` is given it is advanced by them.
func drive(
    _ policy: some AttemptPolicy, requestID: Int64, clock: ManualClock? = nil,
    server: (Int64, Int32) -> AttemptOutcome
) -> RequestResult {
    var delays: [Duration] = []
    var attempt: Int32 = 1
    while true {
        switch policy.admit(requestID: requestID, attempt: attempt) {
        case .reject(let errorClass):
            return RequestResult(final: errorClass, samples: attempt, delays: delays)
        case .proceed:
            let outcome = server(requestID, attempt)
            switch policy.complete(requestID: requestID, attempt: attempt, outcome: outcome) {
            case .finish:
                return RequestResult(final: outcome.errorClass, samples: attempt, delays: delays)
            case .giveUp(let errorClass):
                return RequestResult(final: errorClass, samples: attempt + 1, delays: delays)
            case .retry(let delay):
                delays.append(delay)
                clock?.advance(by: delay)
                attempt += 1
            }
        }
    }
}

let okOutcome = AttemptOutcome(errorClass: .ok, status: 200, duration: .milliseconds(2))
let unavailable = AttemptOutcome(errorClass: .http5xx, status: 503, duration: .milliseconds(2))

@Suite("Resilience policy", .timeLimit(.minutes(1)))
struct ResiliencePolicyTests {
    @Test func emptyConfigurationIsASingleAttempt() throws {
        let policy = try ResiliencePolicy(configuration: .none, seed: 1, clock: ManualClock())
        #expect(drive(policy, requestID: 1) { _, _ in unavailable } == .init(final: .http5xx, samples: 1, delays: []))
        #expect(drive(policy, requestID: 2) { _, _ in okOutcome } == .init(final: .ok, samples: 1, delays: []))
        let snapshot = policy.snapshot()
        #expect(snapshot.requests == 2 && snapshot.attempts == 2 && snapshot.retries == 0)
        #expect(snapshot.breakerState == nil && snapshot.budgetAvailable == nil && snapshot.throttleProbability == nil)
        #expect(policy.drainEvents().isEmpty)
    }

    /// Also with the policy confined to one thread (no lock, as the simulation runs it): the same decisions.
    @Test(arguments: [false, true])
    func breakerGoesClosedOpenHalfOpenClosedOverAScriptedOutage(confinedToOneThread: Bool) throws {
        let clock = ManualClock()
        let configuration = try decodeConfiguration(
            """
            {"retry": {"maxAttempts": 2, "backoff": "none"},
             "breaker": {"window": "count", "windowSize": 10, "minimumCalls": 5, "failureRate": 0.5,
                         "openMs": 1000, "halfOpenProbes": 2}}
            """)
        let policy = try ResiliencePolicy(
            configuration: configuration, seed: 9, clock: clock, confinedToOneThread: confinedToOneThread)
        var healthy = true
        let server: (Int64, Int32) -> AttemptOutcome = { _, _ in healthy ? okOutcome : unavailable }
        var requestID: Int64 = 0
        func next() -> RequestResult {
            requestID += 1
            return drive(policy, requestID: requestID, clock: clock, server: server)
        }

        // Healthy: 10 successes fill the window.
        for _ in 0..<10 { #expect(next().final == .ok) }
        #expect(policy.snapshot().breakerState == .closed)

        // Failing: two requests fail twice each (4 failures of the last 10 calls), the third's first attempt makes
        // 5 of 10 = 50% and opens the breaker, so its retry is rejected.
        healthy = false
        #expect(next() == .init(final: .http5xx, samples: 2, delays: [.zero]))
        #expect(next() == .init(final: .http5xx, samples: 2, delays: [.zero]))
        #expect(next() == .init(final: .circuitOpen, samples: 2, delays: [.zero]))
        #expect(policy.snapshot().breakerState == .open)
        for _ in 0..<5 { #expect(next() == .init(final: .circuitOpen, samples: 1, delays: [])) }

        // Still open 1 ms before the open duration ends.
        clock.advance(by: .milliseconds(999))
        #expect(next().final == .circuitOpen)

        // Recovered: two probes succeed and the breaker closes.
        healthy = true
        clock.advance(by: .milliseconds(1))
        #expect(next().final == .ok)
        #expect(policy.snapshot().breakerState == .halfOpen)
        #expect(next().final == .ok)
        #expect(policy.snapshot().breakerState == .closed)
        for _ in 0..<5 { #expect(next().final == .ok) }

        let transitions = policy.breakerTransitions
        #expect(
            transitions.map { "\($0.from.rawValue)->\($0.to.rawValue)" } == [
                "closed->open", "open->half_open", "half_open->closed",
            ])
        #expect(transitions.map(\.at) == [.zero, .seconds(1), .seconds(1)])
        let events = policy.drainEvents()
        #expect(events.map(\.kind) == Array(repeating: ResilienceEvent.Kind.breakerTransition, count: 3))
        #expect(events[0].detail == "closed -> open: failure rate 50.0% >= 50.0% over 10 calls")
        #expect(events[2].detail == "half_open -> closed: 2 of 2 probes succeeded")
        #expect(policy.drainEvents().isEmpty)

        let snapshot = policy.snapshot()
        #expect(snapshot.breakerRejections == 7)
        #expect(snapshot.retries == 3)
        #expect(snapshot.breakerTransitions == 3)
        #expect(snapshot.requests == 10 + 3 + 2 + 5)
        #expect(snapshot.attempts == 10 + 5 + 2 + 5)
    }

    @Test func aRefusedRetryGivesUpAsBudgetExhausted() throws {
        let configuration = try decodeConfiguration(
            """
            {"retry": {"maxAttempts": 3, "backoff": "none"},
             "budget": {"kind": "tokenBucket", "maxTokens": 2, "costPerRetry": 1, "refundPerSuccess": 1}}
            """)
        let policy = try ResiliencePolicy(configuration: configuration, seed: 3, clock: ManualClock())
        let failing: (Int64, Int32) -> AttemptOutcome = { _, _ in unavailable }
        #expect(
            drive(policy, requestID: 1, server: failing) == .init(final: .http5xx, samples: 3, delays: [.zero, .zero]))
        #expect(drive(policy, requestID: 2, server: failing) == .init(final: .budgetExhausted, samples: 2, delays: []))
        #expect(drive(policy, requestID: 3, server: failing) == .init(final: .budgetExhausted, samples: 2, delays: []))
        // A success refunds one token: the next failing request may retry once.
        #expect(drive(policy, requestID: 4) { _, _ in okOutcome }.final == .ok)
        #expect(
            drive(policy, requestID: 5, server: failing) == .init(final: .budgetExhausted, samples: 3, delays: [.zero]))
        let kinds = policy.drainEvents().map(\.kind)
        #expect(kinds == [.budgetExhausted, .budgetRestored, .budgetExhausted])
        let snapshot = policy.snapshot()
        #expect(snapshot.budgetRefusals == 3 && snapshot.retries == 3 && snapshot.budgetAvailable == 0)
        #expect(snapshot.finalFailures == 1)
    }

    @Test func retryAfterIsHonouredAndCappedThroughThePolicy() throws {
        let configuration = ResilienceConfiguration(retry: .init(maxAttempts: 2, maxDelayMs: 5000))
        let policy = try ResiliencePolicy(
            configuration: configuration, seed: 1, clock: ManualClock(), wallClock: .fixed(exampleNow))
        func retryAfter(_ value: String) -> AttemptDecision {
            policy.complete(
                requestID: 1, attempt: 1,
                outcome: AttemptOutcome(errorClass: .http429, status: 429, duration: .zero, retryAfter: value))
        }
        #expect(retryAfter("2") == .retry(after: .seconds(2)))
        #expect(retryAfter("Sun, 06 Nov 1994 08:49:33 GMT") == .retry(after: .seconds(3)))
        #expect(retryAfter("Sun, 06 Nov 1994 08:49:37 GMT") == .retry(after: .seconds(5)))
        #expect(retryAfter("600") == .retry(after: .seconds(5)))
    }

    @Test func jitterIsFixedByTheSeedNotByArrivalOrder() throws {
        let configuration = ResilienceConfiguration(
            retry: .init(maxAttempts: 5, backoff: .decorrelated, baseMs: 10, capMs: 1000, maxDelayMs: 5000))
        func delays(seed: UInt64, order: [Int64]) throws -> [Int64: [Duration]] {
            let policy = try ResiliencePolicy(configuration: configuration, seed: seed, clock: ManualClock())
            var result: [Int64: [Duration]] = [:]
            for id in order { result[id] = drive(policy, requestID: id) { _, _ in unavailable }.delays }
            return result
        }
        let forward = try delays(seed: 5, order: Array(1...20))
        let backward = try delays(seed: 5, order: Array((1...20).reversed()))
        let otherSeed = try delays(seed: 6, order: Array(1...20))
        #expect(forward == backward)
        #expect(forward != otherSeed)
        #expect(forward.values.allSatisfy { $0.count == 4 && $0.allSatisfy { $0 >= .milliseconds(10) } })
    }

    @Test func throttleRejectsWhenTheBackendStopsAccepting() throws {
        let configuration = ResilienceConfiguration(throttle: .init(k: 2, windowMs: 60_000))
        func run() throws -> [ErrorClass] {
            let policy = try ResiliencePolicy(configuration: configuration, seed: 11, clock: ManualClock())
            return (0..<300).map { id in drive(policy, requestID: Int64(id)) { _, _ in unavailable }.final }
        }
        let finals = try run()
        #expect(finals == (try run()))
        let throttled = finals.filter { $0 == .throttled }.count
        // p rises towards 1 as requests pile up with no accepts: (n)/(n+1); most of the 300 are throttled.
        #expect(throttled > 250 && throttled < 300)
        #expect(finals.first == .http5xx)
    }

    @Test func countersStayConsistentUnderEightThreads() throws {
        let configuration = try decodeConfiguration(
            """
            {"retry": {"maxAttempts": 3, "backoff": "full"},
             "budget": {"kind": "tokenBucket", "maxTokens": 20, "costPerRetry": 1, "refundPerSuccess": 0.5},
             "breaker": {"windowSize": 100, "minimumCalls": 100, "failureRate": 1.0}}
            """)
        let policy = try ResiliencePolicy(configuration: configuration, seed: 4, clock: ManualClock())
        final class Tally: Sendable {
            let retries = Atomic<Int>(0)
            let successes = Atomic<Int>(0)
        }
        let tally = Tally()
        onThreads(8) { thread in
            for index in 0..<2_000 {
                let id = Int64(thread * 1_000_000 + index)
                let result = drive(policy, requestID: id) { id, attempt in
                    (id + Int64(attempt)) % 3 == 0 ? okOutcome : unavailable
                }
                tally.retries.add(result.delays.count, ordering: .relaxed)
                if result.final == .ok { tally.successes.add(1, ordering: .relaxed) }
            }
        }
        let snapshot = policy.snapshot()
        let retries = tally.retries.load(ordering: .relaxed)
        #expect(snapshot.requests == 16_000)
        #expect(snapshot.retries == retries)
        #expect(snapshot.attempts == 16_000 + retries)
        // Every retry spent a token that was there at the start or refunded by a successful attempt.
        let successes = tally.successes.load(ordering: .relaxed)
        #expect(Double(retries) <= 20 + 0.5 * Double(successes))
        #expect(snapshot.breakerState == .closed)
    }
}
