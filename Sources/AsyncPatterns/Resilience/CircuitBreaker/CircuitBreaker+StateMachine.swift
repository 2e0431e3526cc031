/// Identifies one call through the breaker, so half-open can tell its probes from late answers of older calls.
struct CircuitCallID: Hashable, Sendable {
    var requestID: Int64
    var attempt: Int32
}

/// Calls, failures and slow calls in a breaker's window.
struct CircuitTally: WindowTally, Hashable {
    var calls = 0
    var failures = 0
    var slow = 0

    static let zero = CircuitTally()

    static func += (lhs: inout CircuitTally, rhs: CircuitTally) {
        lhs.calls += rhs.calls
        lhs.failures += rhs.failures
        lhs.slow += rhs.slow
    }

    static func -= (lhs: inout CircuitTally, rhs: CircuitTally) {
        lhs.calls -= rhs.calls
        lhs.failures -= rhs.failures
        lhs.slow -= rhs.slow
    }
}

/// The last N calls, as a ring of failure/slow flags with running totals.
struct CountWindow: Sendable {
    private var flags: [UInt8]
    private var next = 0
    private(set) var total = CircuitTally()

    init(size: Int) {
        flags = Array(repeating: 0, count: size)
    }

    mutating func add(failure: Bool, slow: Bool) {
        if total.calls == flags.count {
            let old = flags[next]
            total.calls -= 1
            if old & 1 != 0 { total.failures -= 1 }
            if old & 2 != 0 { total.slow -= 1 }
        }
        flags[next] = (failure ? 1 : 0) | (slow ? 2 : 0)
        total.calls += 1
        if failure { total.failures += 1 }
        if slow { total.slow += 1 }
        next += 1
        if next == flags.count { next = 0 }
    }

    mutating func reset() {
        total = CircuitTally()
        next = 0
    }
}

/// The circuit breaker as a pure state machine: time comes in as a duration since an origin, and each call returns
/// the transition it caused, if any. Semantics follow resilience4j (thresholds compare with >=, the window is
/// cleared on every transition, open → half-open happens lazily on the first call after the open duration).
struct CircuitBreakerStateMachine: Sendable {
    /// What the breaker does with a call's outcome.
    enum Verdict: Sendable, Equatable {
        case success(slow: Bool)
        case failure(slow: Bool)
        case ignored
    }

    let configuration: CircuitBreakerConfiguration
    private let failureMask: ErrorClassMask
    private let slowCallDuration: Duration
    private let slowTripEnabled: Bool
    private(set) var state: CircuitState = .closed
    private var countWindow: CountWindow?
    private var timeWindow: TimeBucketWindow<CircuitTally>?
    private var openUntil: Duration = .zero
    private var probes: [CircuitCallID] = []
    private var probesAdmitted = 0
    private var probesSucceeded = 0
    /// Calls rejected because the breaker was open or half-open with all probes out.
    private(set) var rejected = 0

    init(configuration: CircuitBreakerConfiguration) {
        self.configuration = configuration
        self.failureMask = ErrorClassMask(configuration.failureClasses)
        self.slowCallDuration = configuration.slowCallDuration
        self.slowTripEnabled = configuration.slowCallRateThreshold != nil
        switch configuration.window {
        case .count(let calls): countWindow = CountWindow(size: calls)
        case .time(let duration, let buckets): timeWindow = TimeBucketWindow(duration: duration, bucketCount: buckets)
        }
    }

    /// Classifies an outcome as the breaker sees it: cancelled and locally-rejected calls are ignored.
    func verdict(for outcome: AttemptOutcome) -> Verdict {
        switch outcome.errorClass {
        case .cancelled, .circuitOpen, .budgetExhausted, .throttled, .limiterTimeout: return .ignored
        default: break
        }
        let slow = outcome.duration > slowCallDuration
        return failureMask.contains(outcome.errorClass) ? .failure(slow: slow) : .success(slow: slow)
    }

    /// Asks to let call `id` through at `now`. Returns whether it may proceed and the transition caused, if any.
    /// `now` is evaluated only when the breaker is not closed.
    mutating func admit(_ id: CircuitCallID, now readNow: @autoclosure () -> Duration)
        -> (permitted: Bool, transition: CircuitTransition?)
    {
        switch state {
        case .closed:
            return (true, nil)
        case .open:
            let now = readNow()
            guard now >= openUntil else {
                rejected += 1
                return (false, nil)
            }
            let transition = moveToHalfOpen(now: now)
            return (admitProbe(id), transition)
        case .halfOpen:
            return (admitProbe(id), nil)
        }
    }

    private mutating func admitProbe(_ id: CircuitCallID) -> Bool {
        guard probesAdmitted < configuration.halfOpenProbes else {
            rejected += 1
            return false
        }
        probesAdmitted += 1
        probes.append(id)
        return true
    }

    /// Records how call `id` ended at `now`. Returns the transition it caused, if any.
    mutating func record(_ id: CircuitCallID, outcome: AttemptOutcome, now: @autoclosure () -> Duration)
        -> CircuitTransition?
    {
        record(id, verdict: verdict(for: outcome), errorClass: outcome.errorClass, now: now())
    }

    /// Records a classified outcome of call `id` at `now`. Returns the transition it caused, if any. `now` is
    /// evaluated only when needed (a time window, or a transition).
    mutating func record(
        _ id: CircuitCallID, verdict: Verdict, errorClass: ErrorClass, now readNow: @autoclosure () -> Duration
    ) -> CircuitTransition? {
        switch state {
        case .open:
            return nil
        case .closed:
            let failure: Bool
            let slow: Bool
            switch verdict {
            case .ignored: return nil
            case .success(let isSlow): (failure, slow) = (false, isSlow)
            case .failure(let isSlow): (failure, slow) = (true, isSlow)
            }
            let total: CircuitTally
            if countWindow != nil {
                countWindow!.add(failure: failure, slow: slow)
                total = countWindow!.total
            } else {
                timeWindow!.add(
                    CircuitTally(calls: 1, failures: failure ? 1 : 0, slow: slow ? 1 : 0), at: readNow())
                total = timeWindow!.total
            }
            guard let reason = tripReason(total) else { return nil }
            return moveToOpen(now: readNow(), reason: reason)
        case .halfOpen:
            guard let index = probes.firstIndex(of: id) else { return nil }
            let probeFailed: Bool
            switch verdict {
            case .ignored:
                // A cancelled probe frees its slot without deciding anything.
                probes.remove(at: index)
                probesAdmitted -= 1
                return nil
            case .success(let slow): probeFailed = slow && slowTripEnabled
            case .failure: probeFailed = true
            }
            probes.remove(at: index)
            if probeFailed {
                let what = verdict == .success(slow: true) ? "slow" : errorClass.rawValue
                let number = probesSucceeded + 1
                return moveToOpen(
                    now: readNow(), reason: "probe \(number) of \(configuration.halfOpenProbes) failed (\(what))")
            }
            probesSucceeded += 1
            guard probesSucceeded >= configuration.halfOpenProbes else { return nil }
            let transition = CircuitTransition(
                at: readNow(), from: .halfOpen, to: .closed,
                reason: "\(probesSucceeded) of \(configuration.halfOpenProbes) probes succeeded")
            state = .closed
            clearWindow()
            return transition
        }
    }

    /// The window's current totals at `now`.
    mutating func windowTotal(now: Duration) -> CircuitTally {
        if let countWindow { return countWindow.total }
        return timeWindow!.total(at: now)
    }

    private func tripReason(_ total: CircuitTally) -> String? {
        guard total.calls >= configuration.minimumCalls else { return nil }
        if let threshold = configuration.failureCountThreshold, total.failures >= threshold {
            return "failure count \(total.failures) >= \(threshold) in \(total.calls) calls"
        }
        if let threshold = configuration.failureRateThreshold {
            let rate = Double(total.failures) / Double(total.calls)
            if rate >= threshold {
                return "failure rate \(percent(rate)) >= \(percent(threshold)) over \(total.calls) calls"
            }
        }
        if let threshold = configuration.slowCallRateThreshold {
            let rate = Double(total.slow) / Double(total.calls)
            if rate >= threshold {
                return "slow-call rate \(percent(rate)) >= \(percent(threshold)) over \(total.calls) calls"
                    + " (slow: > \(configuration.slowCallDuration))"
            }
        }
        return nil
    }

    private mutating func moveToOpen(now: Duration, reason: String) -> CircuitTransition {
        let transition = CircuitTransition(at: now, from: state, to: .open, reason: reason)
        state = .open
        openUntil = now + configuration.openDuration
        probes.removeAll(keepingCapacity: true)
        probesAdmitted = 0
        probesSucceeded = 0
        clearWindow()
        return transition
    }

    private mutating func moveToHalfOpen(now: Duration) -> CircuitTransition {
        state = .halfOpen
        probes.removeAll(keepingCapacity: true)
        probesAdmitted = 0
        probesSucceeded = 0
        return CircuitTransition(
            at: now, from: .open, to: .halfOpen, reason: "open duration \(configuration.openDuration) elapsed")
    }

    private mutating func clearWindow() {
        countWindow?.reset()
        timeWindow?.reset()
    }
}

/// Formats a fraction as a percentage with one decimal, e.g. 0.5 → "50.0%".
private func percent(_ fraction: Double) -> String {
    let tenths = Int((fraction * 1000).rounded())
    return "\(tenths / 10).\(tenths % 10)%"
}
