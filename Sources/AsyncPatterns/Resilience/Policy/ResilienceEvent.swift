/// Something a resilience policy did that the runner stores in the database's `events` table.
public struct ResilienceEvent: Sendable, Hashable, CustomStringConvertible {
    /// When it happened, as time since the policy was created.
    public var at: Duration
    /// A short stable label: "breaker_transition", "budget_exhausted" or "budget_restored" (or "limiter", which
    /// the runner stores from `ResilienceSnapshot` at the end of a cell).
    public var kind: String
    /// Details in words, e.g. "closed -> open: failure rate 60.0% >= 50.0% over 10 calls".
    public var detail: String

    /// Creates an event.
    public init(at: Duration, kind: String, detail: String) {
        self.at = at
        self.kind = kind
        self.detail = detail
    }

    /// The label of circuit breaker transitions.
    public static let breakerTransition = "breaker_transition"
    /// The label of the first budget refusal after retries were being granted.
    public static let budgetExhausted = "budget_exhausted"
    /// The label of the first granted retry after the budget had refused.
    public static let budgetRestored = "budget_restored"
    /// The label of a concurrency limiter's figures at the end of a run (limit, peak, waits, timeouts).
    public static let limiter = "limiter"

    public var description: String { "[\(at)] \(kind): \(detail)" }
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
