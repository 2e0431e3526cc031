/// The engines' `AttemptPolicy` built from a `ResilienceConfiguration`: adaptive throttle → circuit breaker →
/// retry with budget. Thread-safe (one short lock per call), never waits, and deterministic for a seed: jitter and
/// throttle draws derive from (seed, request id, attempt), not from arrival order.
///
/// - `admit`: the throttle may reject (`.throttled`), then the breaker may reject (`.circuitOpen`); a rejection ends
///   the logical request with that class. A first attempt that proceeds is deposited in a ratio budget.
/// - `complete`: the outcome feeds the throttle (accepts), the breaker, and the budget (refund on success); then
///   the retry policy decides; a retry needs the budget's permission, else `.giveUp(.budgetExhausted)`.
/// - `gate`: with a `limiter` configured, a `LimiterGate` the engines enter around each sent attempt; an attempt
///   that waits longer than the acquire timeout ends as `.limiterTimeout` (not retried, ignored by the breaker).
public final class ResiliencePolicy<C: Clock>: AttemptPolicy where C.Duration == Duration {
    private struct State: Sendable {
        // Always present (unused ones hold defaults) so they are mutated in place, never copied out of an Optional.
        var throttle: AdaptiveThrottleStateMachine
        var breaker: CircuitBreakerStateMachine
        var budget: RetryBudgetStateMachine
        var budgetRefusing = false
        var counters = ResilienceSnapshot()
        var events: [ResilienceEvent] = []
        var transitions: [CircuitTransition] = []

        mutating func emit(_ event: ResilienceEvent) {
            if events.count >= eventLimit {
                counters.droppedEvents += 1
                return
            }
            events.append(event)
        }
    }

    /// The most events buffered between two `drainEvents()` calls; later ones are counted as dropped.
    public static var eventLimit: Int { 100_000 }

    /// The configuration the policy was built from.
    public let configuration: ResilienceConfiguration
    /// The retry policy, or nil when retries are off.
    public let retryPolicy: RetryPolicy?
    /// The concurrency limiter behind `gate`, or nil without a `limiter` configuration.
    public let limiter: ConcurrencyLimiter<C>?
    /// A `LimiterGate` over `limiter` with the configured acquire timeout, or nil without a limiter.
    public let gate: (any AttemptGate)?
    /// `retryPolicy`, or a never-retrying placeholder when retries are off (`hasRetry` false): a non-optional
    /// stored value is borrowed in place, where reading the optional copied it (three retains and releases a call).
    private let retry: RetryPolicy
    private let hasRetry: Bool
    private let retrySeed: UInt64
    private let throttleSeed: UInt64
    private let elapsed: Elapsed<C>
    private let wallClock: WallClock
    private let state: LockedBox<State>
    private let hasThrottle: Bool
    private let hasBreaker: Bool
    private let hasBudget: Bool
    /// Whether admit needs the time up front (throttle or ratio budget); the breaker reads it only when not closed.
    private let admitNeedsTime: Bool
    /// Whether complete needs the time up front (throttle or time-window breaker).
    private let completeNeedsTime: Bool

    /// Builds the policy; throws `ResilienceConfigurationError` when `configuration` does not validate.
    /// `seed` fixes all random draws, `clock` drives windows and open durations, `wallClock` resolves
    /// `Retry-After` dates. `confinedToOneThread`: the caller promises to use the policy from one thread at a time
    /// (a simulation's event loop), so `admit` and `complete` take no lock; the limiter behind `gate` still locks.
    public init(
        configuration: ResilienceConfiguration, seed: UInt64, clock: C, wallClock: WallClock = .system,
        confinedToOneThread: Bool = false
    ) throws {
        try configuration.validate()
        self.configuration = configuration
        let retryPolicy = configuration.retry?.makePolicy()
        self.retryPolicy = retryPolicy
        retry = retryPolicy ?? RetryPolicy(maxAttempts: 1)
        hasRetry = retryPolicy != nil
        let limiter = configuration.limiter?.makeLimiter(clock: clock)
        self.limiter = limiter
        self.gate = limiter.map { LimiterGate(limiter: $0, acquireTimeout: configuration.limiter?.acquireTimeout) }
        self.retrySeed = mixSeed(seed, StableHash.hash("retry"))
        self.throttleSeed = mixSeed(seed, StableHash.hash("throttle"))
        self.elapsed = Elapsed(clock: clock)
        self.wallClock = wallClock
        hasThrottle = configuration.throttle != nil
        hasBreaker = configuration.breaker != nil
        hasBudget = configuration.budget != nil
        let ratioBudget = configuration.budget?.kind == .ratio
        let timeBreaker = configuration.breaker?.window == .time
        admitNeedsTime = hasThrottle || ratioBudget
        completeNeedsTime = hasThrottle || timeBreaker
        // Unused machines get harmless defaults; the has* flags keep them out of every decision.
        let throttle = configuration.throttle?.makeConfiguration() ?? AdaptiveThrottleConfiguration()
        let breaker = configuration.breaker?.makeConfiguration() ?? CircuitBreakerConfiguration()
        let budget =
            configuration.budget?.makeConfiguration()
            ?? .tokenBucket(maxTokens: 1, costPerRetry: 1, refundPerSuccess: 0)
        let initial = State(
            throttle: AdaptiveThrottleStateMachine(configuration: throttle),
            breaker: CircuitBreakerStateMachine(configuration: breaker),
            budget: RetryBudgetStateMachine(configuration: budget))
        self.state = LockedBox(initial, confinedToOneThread: confinedToOneThread)
    }

    /// Throttle, then breaker: `.proceed`, `.reject(.throttled)` or `.reject(.circuitOpen)`.
    public func admit(requestID: Int64, attempt: Int32) -> Admission {
        let early: Duration? = admitNeedsTime ? elapsed.now() : nil
        return state.withLock { state in
            if hasThrottle {
                let draw = SplitMix64.unitInterval(
                    mixSeed(mixSeed(throttleSeed, UInt64(bitPattern: requestID)), UInt64(UInt32(bitPattern: attempt))))
                if !state.throttle.admit(now: early!, random: draw) {
                    state.counters.throttleRejections += 1
                    return .reject(.throttled)
                }
            }
            if hasBreaker {
                let (permitted, transition) = state.breaker.admit(
                    CircuitCallID(requestID: requestID, attempt: attempt), now: early ?? elapsed.now())
                if let transition { Self.log(transition, in: &state) }
                if !permitted {
                    state.counters.breakerRejections += 1
                    return .reject(.circuitOpen)
                }
            }
            if attempt <= 1 {
                state.counters.requests += 1
                if hasBudget { state.budget.recordRequest(now: early ?? .zero) }
            }
            state.counters.attempts += 1
            return .proceed
        }
    }

    /// Records the outcome, then `.finish`, `.retry(after:)` (backoff or Retry-After, capped at max delay) or
    /// `.giveUp(.budgetExhausted)`.
    public func complete(requestID: Int64, attempt: Int32, outcome: AttemptOutcome) -> AttemptDecision {
        let early: Duration? = completeNeedsTime ? elapsed.now() : nil
        let success = outcome.errorClass.isSuccess
        let decision: RetryPolicy.Decision
        if !success, hasRetry {
            decision = retry.decide(
                attempt: Int(attempt), outcome: outcome, seed: mixSeed(retrySeed, UInt64(bitPattern: requestID)),
                wallNow: wallClock.nowSinceEpoch)
        } else {
            decision = .finish
        }
        return state.withLock { state in
            if hasThrottle, AdaptiveThrottleStateMachine.isAccept(outcome.errorClass) {
                state.throttle.recordAccept(now: early!)
            }
            if hasBreaker {
                let transition = state.breaker.record(
                    CircuitCallID(requestID: requestID, attempt: attempt), outcome: outcome,
                    now: early ?? elapsed.now())
                if let transition { Self.log(transition, in: &state) }
            }
            if success {
                if hasBudget { state.budget.recordSuccess() }
                return .finish
            }
            guard case .retry(let delay) = decision else {
                state.counters.finalFailures += 1
                return .finish
            }
            if hasBudget {
                let now = early ?? elapsed.now()
                guard state.budget.tryWithdraw(now: now) else {
                    state.counters.budgetRefusals += 1
                    if !state.budgetRefusing {
                        state.budgetRefusing = true
                        let left = state.budget.available(now: now)
                        state.emit(
                            ResilienceEvent(
                                at: now, kind: .budgetExhausted,
                                detail: "retry budget refused a retry (\(resilienceNumberText(left)) left)"))
                    }
                    return .giveUp(.budgetExhausted)
                }
                if state.budgetRefusing {
                    state.budgetRefusing = false
                    state.emit(
                        ResilienceEvent(
                            at: now, kind: .budgetRestored, detail: "retry budget granted a retry again")
                    )
                }
            }
            state.counters.retries += 1
            return .retry(after: delay)
        }
    }

    private static func log(_ transition: CircuitTransition, in state: inout State) {
        state.counters.breakerTransitions += 1
        if state.transitions.count < eventLimit { state.transitions.append(transition) }
        state.emit(
            ResilienceEvent(at: transition.at, kind: .breakerTransition, detail: transition.description))
    }

    /// Returns the events since the last drain, oldest first, and forgets them.
    public func drainEvents() -> [ResilienceEvent] {
        state.withLock { state in
            defer { state.events.removeAll() }
            return state.events
        }
    }

    /// Every breaker transition so far, oldest first (not drained; at most `eventLimit`).
    public var breakerTransitions: [CircuitTransition] { state.withLock { $0.transitions } }

    /// The counters now, with the limiter's figures when there is a limiter.
    public func snapshot() -> ResilienceSnapshot {
        let now = elapsed.now()
        var snapshot = state.withLock { state in
            var snapshot = state.counters
            snapshot.breakerState = hasBreaker ? state.breaker.state : nil
            snapshot.budgetAvailable = hasBudget ? state.budget.available(now: now) : nil
            snapshot.throttleProbability = hasThrottle ? state.throttle.rejectionProbability(now: now) : nil
            return snapshot
        }
        if let metrics = limiter?.metrics {
            snapshot.limiterLimit = metrics.limit
            snapshot.limiterPeak = metrics.peak
            snapshot.limiterWaits = metrics.waits
            snapshot.limiterTimeouts = metrics.timeouts
        }
        return snapshot
    }
}

extension ResiliencePolicy where C == ContinuousClock {
    /// Builds the policy on the continuous clock and the system wall clock; throws `ResilienceConfigurationError`
    /// when `configuration` does not validate.
    public convenience init(configuration: ResilienceConfiguration, seed: UInt64) throws {
        try self.init(configuration: configuration, seed: seed, clock: ContinuousClock())
    }
}
