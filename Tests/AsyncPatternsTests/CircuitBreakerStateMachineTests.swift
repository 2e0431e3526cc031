import TestSupport
import Testing

@testable import AsyncPatterns

/// One step of a scripted breaker scenario.
enum BreakerStep: Sendable, CustomStringConvertible {
    /// Admit (must be permitted) and record at once: success.
    case ok
    /// Admit and record a 5xx failure.
    case fail
    /// Admit and record a successful call lasting `slowMs` ms.
    case slow
    /// Admit and record a call that ended like this (status, duration 1 ms).
    case outcome(ErrorClass)
    /// Admit and expect a rejection.
    case reject
    /// Admit call `label` (must be permitted) without recording it yet.
    case admit(Int)
    /// Record how call `label` ended.
    case finish(Int, ErrorClass)
    /// Advance the time by this many ms.
    case advanceMs(Int)
    /// Expect the state.
    case expect(CircuitState)
    /// Expect this many rejections so far.
    case rejections(Int)

    static let slowMs = 200

    var description: String {
        switch self {
        case .ok: "ok"
        case .fail: "fail"
        case .slow: "slow"
        case .outcome(let errorClass): errorClass.rawValue
        case .reject: "reject"
        case .admit(let label): "admit#\(label)"
        case .finish(let label, let errorClass): "finish#\(label)=\(errorClass.rawValue)"
        case .advanceMs(let ms): "+\(ms)ms"
        case .expect(let state): "expect(\(state.rawValue))"
        case .rejections(let count): "rejections(\(count))"
        }
    }

    static func repeated(_ step: BreakerStep, _ count: Int) -> [BreakerStep] {
        Array(repeating: step, count: count)
    }
}

/// A named breaker scenario: configuration, steps, and the transitions it must produce, in order.
struct BreakerCase: Sendable, CustomTestStringConvertible {
    var name: String
    var configuration: CircuitBreakerConfiguration
    var steps: [BreakerStep]
    var transitions: [String]

    var testDescription: String { name }
}

/// A breaker configuration for tables: count window of `window` calls unless a time window is given.
func breakerConfig(
    window: CircuitBreakerConfiguration.Window = .count(calls: 10), minimumCalls: Int = 10, rate: Double? = 0.5,
    count: Int? = nil, slowRate: Double? = nil, openMs: Int = 5000, probes: Int = 3
) -> CircuitBreakerConfiguration {
    CircuitBreakerConfiguration(
        window: window, minimumCalls: minimumCalls, failureRateThreshold: rate, failureCountThreshold: count,
        slowCallRateThreshold: slowRate, slowCallDuration: .milliseconds(100), openDuration: .milliseconds(openMs),
        halfOpenProbes: probes)
}

/// Trips a default-configured (`breakerConfig()`) breaker: 10 failures.
let tripTen = BreakerStep.repeated(.fail, 10)

let breakerCases: [BreakerCase] = [
    BreakerCase(
        name: "failure rate exactly at threshold with exactly minimum calls opens",
        configuration: breakerConfig(),
        steps: BreakerStep.repeated(.fail, 5) + BreakerStep.repeated(.ok, 4) + [.expect(.closed), .ok, .expect(.open)],
        transitions: ["closed->open"]),
    BreakerCase(
        name: "failure rate just below threshold stays closed",
        configuration: breakerConfig(),
        steps: BreakerStep.repeated(.fail, 4) + BreakerStep.repeated(.ok, 6) + [.expect(.closed)],
        transitions: []),
    BreakerCase(
        name: "one call below minimum calls never trips even at 100% failures",
        configuration: breakerConfig(),
        steps: BreakerStep.repeated(.fail, 9) + [.expect(.closed), .fail, .expect(.open)],
        transitions: ["closed->open"]),
    BreakerCase(
        name: "failure count trips exactly at the count",
        configuration: breakerConfig(minimumCalls: 1, rate: nil, count: 3),
        steps: [.ok, .fail, .fail, .ok, .expect(.closed), .fail, .expect(.open)],
        transitions: ["closed->open"]),
    BreakerCase(
        name: "failure count is gated by minimum calls",
        configuration: breakerConfig(minimumCalls: 5, rate: nil, count: 2),
        steps: [.fail, .fail, .ok, .ok, .expect(.closed), .ok, .expect(.open)],
        transitions: ["closed->open"]),
    BreakerCase(
        name: "slow-call rate trips at threshold; a call exactly at the slow duration is not slow",
        configuration: breakerConfig(minimumCalls: 4, rate: nil, slowRate: 0.5),
        steps: [.slow, .outcome(.ok), .ok, .expect(.closed), .slow, .expect(.open)],
        transitions: ["closed->open"]),
    BreakerCase(
        name: "count window slides: only the last N calls count",
        configuration: breakerConfig(window: .count(calls: 4), minimumCalls: 4, rate: 0.75),
        steps: [.fail, .ok, .ok, .ok, .fail, .fail, .expect(.closed), .fail, .expect(.open)],
        transitions: ["closed->open"]),
    BreakerCase(
        name: "4xx, 429 and cancelled calls are not failures by default",
        configuration: breakerConfig(minimumCalls: 2, rate: 0.5),
        steps: [
            .outcome(.http4xx), .outcome(.http429), .outcome(.cancelled), .expect(.closed), .fail, .fail,
            .expect(.open),
        ],
        transitions: ["closed->open"]),
    BreakerCase(
        name: "time window: calls older than the window are dropped",
        configuration: breakerConfig(
            window: .time(duration: .seconds(10), buckets: 10), minimumCalls: 4, rate: 0.5),
        steps: [.fail, .fail, .fail, .advanceMs(10_000), .ok, .ok, .ok, .fail, .expect(.closed)],
        transitions: []),
    BreakerCase(
        name: "time window: calls still inside the window count",
        configuration: breakerConfig(
            window: .time(duration: .seconds(10), buckets: 10), minimumCalls: 4, rate: 0.5),
        steps: [.fail, .fail, .fail, .advanceMs(9_999), .ok, .expect(.open)],
        transitions: ["closed->open"]),
    BreakerCase(
        name: "time window: minimum calls counts only calls in the window",
        configuration: breakerConfig(
            window: .time(duration: .seconds(1), buckets: 10), minimumCalls: 3, rate: 0.5),
        steps: [.fail, .fail, .advanceMs(1_000), .fail, .fail, .expect(.closed), .fail, .expect(.open)],
        transitions: ["closed->open"]),
    BreakerCase(
        name: "open rejects until the open duration; exactly at it, half-open admits",
        configuration: breakerConfig(openMs: 5000),
        steps: tripTen + [
            .reject, .advanceMs(4_999), .reject, .expect(.open), .rejections(2), .advanceMs(1),
            .admit(1), .expect(.halfOpen), .rejections(2),
        ],
        transitions: ["closed->open", "open->half_open"]),
    BreakerCase(
        name: "half-open: all probes succeed -> closed",
        configuration: breakerConfig(probes: 3),
        steps: tripTen + [.advanceMs(5_000), .ok, .ok, .expect(.halfOpen), .ok, .expect(.closed)],
        transitions: ["closed->open", "open->half_open", "half_open->closed"]),
    BreakerCase(
        name: "half-open: any probe fails -> open, for the full open duration again",
        configuration: breakerConfig(probes: 3),
        steps: tripTen + [
            .advanceMs(5_000), .ok, .fail, .expect(.open), .advanceMs(4_999), .reject,
            .advanceMs(1), .ok, .ok, .ok, .expect(.closed),
        ],
        transitions: ["closed->open", "open->half_open", "half_open->open", "open->half_open", "half_open->closed"]),
    BreakerCase(
        name: "half-open admits exactly N probes at once; more are rejected and counted",
        configuration: breakerConfig(probes: 2),
        steps: tripTen + [
            .advanceMs(5_000), .admit(1), .admit(2), .reject, .reject, .rejections(2),
            .finish(1, .ok), .reject, .finish(2, .ok), .expect(.closed), .ok,
        ],
        transitions: ["closed->open", "open->half_open", "half_open->closed"]),
    BreakerCase(
        name: "half-open ignores late answers of calls admitted before it opened",
        configuration: breakerConfig(probes: 1),
        steps: [.admit(99)] + tripTen + [
            .advanceMs(5_000), .admit(1), .finish(99, .http5xx), .expect(.halfOpen),
            .finish(1, .ok), .expect(.closed),
        ],
        transitions: ["closed->open", "open->half_open", "half_open->closed"]),
    BreakerCase(
        name: "half-open: a cancelled probe frees its slot without deciding",
        configuration: breakerConfig(probes: 1),
        steps: tripTen + [
            .advanceMs(5_000), .admit(1), .reject, .finish(1, .cancelled), .expect(.halfOpen),
            .ok, .expect(.closed),
        ],
        transitions: ["closed->open", "open->half_open", "half_open->closed"]),
    BreakerCase(
        name: "half-open: a slow probe fails when the slow-call trip is on",
        configuration: breakerConfig(minimumCalls: 2, rate: 0.5, slowRate: 1.0, probes: 2),
        steps: [.fail, .fail, .advanceMs(5_000), .ok, .slow, .expect(.open)],
        transitions: ["closed->open", "open->half_open", "half_open->open"]),
    BreakerCase(
        name: "half-open: a slow probe succeeds when the slow-call trip is off",
        configuration: breakerConfig(minimumCalls: 2, rate: 0.5, probes: 2),
        steps: [.fail, .fail, .advanceMs(5_000), .ok, .slow, .expect(.closed)],
        transitions: ["closed->open", "open->half_open", "half_open->closed"]),
    BreakerCase(
        name: "closing starts a fresh window: old failures do not count",
        configuration: breakerConfig(minimumCalls: 4, rate: 0.5, probes: 1),
        steps: BreakerStep.repeated(.fail, 4) + [
            .advanceMs(5_000), .ok, .expect(.closed), .fail, .ok, .ok,
            .expect(.closed), .fail, .expect(.open),
        ],
        transitions: ["closed->open", "open->half_open", "half_open->closed", "closed->open"]),
    BreakerCase(
        name: "open ignores outcomes of calls that were in flight",
        configuration: breakerConfig(probes: 1),
        steps: [.admit(7)] + tripTen + [.finish(7, .ok), .expect(.open), .reject],
        transitions: ["closed->open"]),
    BreakerCase(
        name: "zero open duration goes half-open on the next call",
        configuration: breakerConfig(openMs: 0, probes: 1),
        steps: tripTen + [.expect(.open), .ok, .expect(.closed)],
        transitions: ["closed->open", "open->half_open", "half_open->closed"]),
]

@Suite("Circuit breaker state machine")
struct CircuitBreakerStateMachineTests {
    @Test(arguments: breakerCases)
    func scenario(_ scenario: BreakerCase) {
        var machine = CircuitBreakerStateMachine(configuration: scenario.configuration)
        var now = Duration.zero
        var nextID: Int64 = 1000
        var transitions: [CircuitTransition] = []
        func outcome(_ errorClass: ErrorClass, ms: Int = 1) -> AttemptOutcome {
            let status =
                switch errorClass {
                case .ok: 200
                case .http4xx: 404
                case .http429: 429
                case .http5xx: 503
                default: 0
                }
            return AttemptOutcome(errorClass: errorClass, status: status, duration: .milliseconds(ms))
        }
        func call(_ result: AttemptOutcome, step: Int) {
            nextID += 1
            let id = CircuitCallID(requestID: nextID, attempt: 1)
            let (permitted, transition) = machine.admit(id, now: now)
            if let transition { transitions.append(transition) }
            #expect(permitted, "step \(step): call should be permitted in \(machine.state)")
            if let transition = machine.record(id, outcome: result, now: now) { transitions.append(transition) }
        }
        for (index, step) in scenario.steps.enumerated() {
            switch step {
            case .ok: call(outcome(.ok), step: index)
            case .fail: call(outcome(.http5xx), step: index)
            case .slow: call(outcome(.ok, ms: BreakerStep.slowMs), step: index)
            case .outcome(let errorClass):
                // `.outcome(.ok)` is the edge case: exactly at the slow-call duration.
                call(outcome(errorClass, ms: errorClass == .ok ? 100 : 1), step: index)
            case .reject:
                nextID += 1
                let (permitted, transition) = machine.admit(CircuitCallID(requestID: nextID, attempt: 1), now: now)
                if let transition { transitions.append(transition) }
                #expect(!permitted, "step \(index): call should be rejected in \(machine.state)")
            case .admit(let label):
                let (permitted, transition) = machine.admit(
                    CircuitCallID(requestID: Int64(label), attempt: 1), now: now)
                if let transition { transitions.append(transition) }
                #expect(permitted, "step \(index): call #\(label) should be permitted")
            case .finish(let label, let errorClass):
                let id = CircuitCallID(requestID: Int64(label), attempt: 1)
                if let transition = machine.record(id, outcome: outcome(errorClass), now: now) {
                    transitions.append(transition)
                }
            case .advanceMs(let ms):
                now += .milliseconds(ms)
            case .expect(let state):
                #expect(machine.state == state, "step \(index) (\(step))")
            case .rejections(let count):
                #expect(machine.rejected == count, "step \(index) (\(step))")
            }
        }
        #expect(transitions.map { "\($0.from.rawValue)->\($0.to.rawValue)" } == scenario.transitions)
        for transition in transitions { #expect(!transition.reason.isEmpty) }
    }

    @Test func transitionReasonsNameTheCause() {
        var machine = CircuitBreakerStateMachine(configuration: breakerConfig(minimumCalls: 4, rate: 0.5, probes: 1))
        var log: [CircuitTransition] = []
        for index in 0..<4 {
            let id = CircuitCallID(requestID: Int64(index), attempt: 1)
            _ = machine.admit(id, now: .zero)
            let result = AttemptOutcome(errorClass: index < 2 ? .http5xx : .ok, status: 0, duration: .zero)
            if let transition = machine.record(id, outcome: result, now: .zero) { log.append(transition) }
        }
        let probe = CircuitCallID(requestID: 100, attempt: 1)
        if let transition = machine.admit(probe, now: .seconds(5)).transition { log.append(transition) }
        if let transition = machine.record(
            probe, outcome: AttemptOutcome(errorClass: .timeout, status: 0, duration: .zero), now: .seconds(5))
        {
            log.append(transition)
        }
        #expect(
            log.map(\.reason) == [
                "failure rate 50.0% >= 50.0% over 4 calls",
                "open duration 5.0 seconds elapsed",
                "probe 1 of 1 failed (timeout)",
            ])
        #expect(log.map(\.at) == [.zero, .seconds(5), .seconds(5)])
        #expect(log[0].description == "closed -> open: failure rate 50.0% >= 50.0% over 4 calls")
    }

    @Test func failureCountReasonAndSlowReason() {
        var machine = CircuitBreakerStateMachine(configuration: breakerConfig(minimumCalls: 1, rate: nil, count: 1))
        let id = CircuitCallID(requestID: 1, attempt: 1)
        _ = machine.admit(id, now: .zero)
        let transition = machine.record(
            id, outcome: AttemptOutcome(errorClass: .refused, status: 0, duration: .zero), now: .zero)
        #expect(transition?.reason == "failure count 1 >= 1 in 1 calls")

        var slow = CircuitBreakerStateMachine(configuration: breakerConfig(minimumCalls: 1, rate: nil, slowRate: 1))
        _ = slow.admit(id, now: .zero)
        let slowTransition = slow.record(
            id, outcome: AttemptOutcome(errorClass: .ok, status: 200, duration: .seconds(1)), now: .zero)
        #expect(slowTransition?.reason.hasPrefix("slow-call rate 100.0% >= 100.0% over 1 calls") == true)
    }
}

@Suite("Circuit breaker wrapper")
struct CircuitBreakerTests {
    @Test func wrapperFollowsTheManualClock() {
        let clock = ManualClock()
        let breaker = CircuitBreaker(configuration: breakerConfig(minimumCalls: 2, rate: 0.5, probes: 1), clock: clock)
        let failure = AttemptOutcome(errorClass: .http5xx, status: 500, duration: .milliseconds(1))
        for _ in 0..<2 {
            let permit = breaker.tryAcquire()
            #expect(permit != nil)
            if let permit { breaker.record(permit, outcome: failure) }
        }
        #expect(breaker.currentState == .open)
        #expect(breaker.tryAcquire() == nil)
        #expect(breaker.rejectedCount == 1)
        clock.advance(by: .seconds(5))
        let probe = breaker.tryAcquire()
        #expect(probe != nil)
        #expect(breaker.tryAcquire() == nil)
        if let probe { breaker.record(probe, outcome: AttemptOutcome(errorClass: .ok, status: 200, duration: .zero)) }
        #expect(breaker.currentState == .closed)
        #expect(breaker.transitions.map(\.to) == [.open, .halfOpen, .closed])
        #expect(breaker.transitions.map(\.at) == [.zero, .seconds(5), .seconds(5)])
        #expect(breaker.rejectedCount == 2)
    }
}
