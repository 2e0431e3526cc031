import AsyncPatterns
import HTTPEngines

/// What one simulated run produced: the samples an engine would have emitted (times in virtual ns), the run's
/// summary, the resilience policy's own record, and the server model's counters.
public struct SimulationResult: Sendable {
    /// One sample per attempt, in the order the attempts ended (ties in scheduling order); every logical request has
    /// exactly one final sample.
    public var samples: [AttemptSample]
    /// The run's summary, as an engine reports it; `elapsed` is virtual time.
    public var summary: EngineRunSummary
    /// The policy's counters at the end, or nil without resilience.
    public var resilience: ResilienceSnapshot?
    /// The breaker's transitions, oldest first (times since the start, virtual); empty without a breaker.
    public var breakerTransitions: [CircuitTransition]
    /// The policy's events (breaker transitions, budget exhaustion), oldest first.
    public var resilienceEvents: [ResilienceEvent]
    /// The server model's counters.
    public var server: SimulatedServerCounters
    /// Events the simulator processed.
    public var events: Int
}

/// What the simulated server counted.
public struct SimulatedServerCounters: Sendable, Hashable {
    /// Attempts that reached the server.
    public var requests: Int = 0
    /// Attempts answered 503 because capacity and queue were full.
    public var rejected: Int = 0
    /// Answers (services, resets, over-capacity 503s) that came after their client had given up (timed out):
    /// wasted work. A hang does no work and is not counted.
    public var wasted: Int = 0
    /// The most requests in service at once, when attempts are served by events (the capacity model on, or a
    /// contention endpoint); 0 otherwise.
    public var peakInService: Int = 0
    /// The longest the capacity queue grew.
    public var peakQueued: Int = 0

    /// Creates counters at zero.
    public init() {}
}
