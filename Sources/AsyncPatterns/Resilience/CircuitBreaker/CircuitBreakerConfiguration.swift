/// How a circuit breaker decides to open, how long it stays open and how it probes. Build it from user input
/// through `ResilienceConfiguration` (which validates); this initializer only checks programmer mistakes.
public struct CircuitBreakerConfiguration: Sendable, Hashable {
    /// Which recent calls the trip thresholds look at.
    public enum Window: Sendable, Hashable {
        /// The last `calls` recorded calls.
        case count(calls: Int)
        /// The calls recorded in the last `duration`, kept in `buckets` equal time buckets.
        case time(duration: Duration, buckets: Int)
    }

    /// The sliding window the thresholds are evaluated over. Default: the last 100 calls.
    public var window: Window
    /// Calls the window must hold before any threshold is evaluated. Default 10.
    public var minimumCalls: Int
    /// Opens when failures / calls >= this fraction (0, 1]; nil disables. Default 0.5.
    public var failureRateThreshold: Double?
    /// Opens when the window holds at least this many failures; nil disables. Default nil.
    public var failureCountThreshold: Int?
    /// Opens when slow calls / calls >= this fraction (0, 1]; nil disables. Default nil.
    public var slowCallRateThreshold: Double?
    /// A call taking longer than this (strictly) is slow. Default 1 s.
    public var slowCallDuration: Duration
    /// How long the breaker stays open before it lets probes through. Default 5 s.
    public var openDuration: Duration
    /// How many probe calls half-open admits; all succeed → closed, any fails → open. Default 3.
    public var halfOpenProbes: Int
    /// The error classes that count as failures. Default: 5xx, timeout, refused, reset, other.
    public var failureClasses: Set<ErrorClass>

    /// The failure classes used by default: server errors and transport errors, not 4xx or 429.
    public static let defaultFailureClasses: Set<ErrorClass> = [.http5xx, .timeout, .refused, .reset, .other]

    /// Creates a configuration; every argument has the default documented on its property.
    public init(
        window: Window = .count(calls: 100),
        minimumCalls: Int = 10,
        failureRateThreshold: Double? = 0.5,
        failureCountThreshold: Int? = nil,
        slowCallRateThreshold: Double? = nil,
        slowCallDuration: Duration = .seconds(1),
        openDuration: Duration = .seconds(5),
        halfOpenProbes: Int = 3,
        failureClasses: Set<ErrorClass> = CircuitBreakerConfiguration.defaultFailureClasses
    ) {
        switch window {
        case .count(let calls): precondition(calls >= 1, "a count window needs at least 1 call")
        case .time(let duration, let buckets):
            precondition(buckets >= 1 && duration.wholeNanoseconds >= Int64(buckets), "time window too small")
        }
        precondition(minimumCalls >= 1, "minimumCalls must be at least 1")
        precondition(halfOpenProbes >= 1, "halfOpenProbes must be at least 1")
        precondition(openDuration >= .zero, "openDuration must not be negative")
        self.window = window
        self.minimumCalls = minimumCalls
        self.failureRateThreshold = failureRateThreshold
        self.failureCountThreshold = failureCountThreshold
        self.slowCallRateThreshold = slowCallRateThreshold
        self.slowCallDuration = slowCallDuration
        self.openDuration = openDuration
        self.halfOpenProbes = halfOpenProbes
        self.failureClasses = failureClasses
    }
}

/// The state of a circuit breaker. Raw values are the labels stored in events.
public enum CircuitState: String, Sendable, Hashable, Codable {
    /// Calls flow; outcomes are recorded in the window.
    case closed
    /// Calls are rejected until the open duration has elapsed.
    case open
    /// A limited number of probe calls are let through.
    case halfOpen = "half_open"
}

/// One state change of a circuit breaker, with why it happened.
public struct CircuitTransition: Sendable, Hashable, CustomStringConvertible {
    /// When it happened, as time since the breaker (or policy) was created.
    public var at: Duration
    /// The state before.
    public var from: CircuitState
    /// The state after.
    public var to: CircuitState
    /// Why, in words, e.g. "failure rate 60.0% >= 50.0% over 10 calls".
    public var reason: String

    /// Creates a transition record.
    public init(at: Duration, from: CircuitState, to: CircuitState, reason: String) {
        self.at = at
        self.from = from
        self.to = to
        self.reason = reason
    }

    public var description: String { "\(from.rawValue) -> \(to.rawValue): \(reason)" }
}
