/// Something a resilience policy did that the runner stores in the database's `events` table.
public struct ResilienceEvent: Sendable, Hashable, CustomStringConvertible {
    /// When it happened, as time since the policy was created.
    public var at: Duration
    /// What happened; its raw value is the label the runner stores.
    public var kind: Kind
    /// Details in words, e.g. "closed -> open: failure rate 60.0% >= 50.0% over 10 calls".
    public var detail: String

    /// Creates an event.
    public init(at: Duration, kind: Kind, detail: String) {
        self.at = at
        self.kind = kind
        self.detail = detail
    }

    /// What a resilience policy reports, with a short stable label as raw value.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A circuit breaker transition.
        case breakerTransition = "breaker_transition"
        /// The first budget refusal after retries were being granted.
        case budgetExhausted = "budget_exhausted"
        /// The first granted retry after the budget had refused.
        case budgetRestored = "budget_restored"
        /// A concurrency limiter's figures at the end of a run (limit, peak, waits, timeouts), which the runner
        /// stores from `ResilienceSnapshot`.
        case limiter
    }

    public var description: String { "[\(at)] \(kind.rawValue): \(detail)" }
}

/// A resilience policy's counters at one moment.
public struct ResilienceSnapshot: Sendable, Hashable {
    /// Logical requests whose first attempt was admitted.
    public var requests: Int = 0
    /// Attempts admitted (first attempts and retries).
    public var attempts: Int = 0
    /// Attempts rejected by the adaptive throttle.
    public var throttleRejections: Int = 0
    /// Attempts rejected by the circuit breaker.
    public var breakerRejections: Int = 0
    /// Retries decided (the engine was told to retry).
    public var retries: Int = 0
    /// Retries refused by the budget (the request ended as budget_exhausted).
    public var budgetRefusals: Int = 0
    /// Failed attempts that were final because retrying was not allowed (not retryable or out of attempts).
    public var finalFailures: Int = 0
    /// The breaker's state, or nil without a breaker.
    public var breakerState: CircuitState?
    /// Breaker transitions so far.
    public var breakerTransitions: Int = 0
    /// Tokens (token bucket) or retries allowed now (ratio), or nil without a budget.
    public var budgetAvailable: Double?
    /// The throttle's current rejection probability, or nil without a throttle.
    public var throttleProbability: Double?
    /// Events dropped because nobody drained them (the buffer holds `ResiliencePolicy.eventLimit`).
    public var droppedEvents: Int = 0
    /// The concurrency limiter's limit, or nil without a limiter.
    public var limiterLimit: Int?
    /// The most limiter permits held at once (0 without a limiter).
    public var limiterPeak: Int = 0
    /// Attempts that had to wait for a limiter permit, whatever their end (0 without a limiter).
    public var limiterWaits: Int = 0
    /// Attempts that gave up waiting for a limiter permit and ended as `limiter_timeout` (0 without a limiter).
    public var limiterTimeouts: Int = 0

    /// All counters zero, no state.
    public init() {}
}
