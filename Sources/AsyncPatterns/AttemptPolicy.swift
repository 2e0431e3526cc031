/// The seam between engines and resilience patterns: before each attempt an engine asks whether it may
/// send, and after each attempt it asks what to do next. Engines carry out the answer (sleep, retry,
/// stop); policies never sleep or do I/O themselves. Both blocking and async engines use it.
public protocol AttemptPolicy: Sendable {
    /// Asks whether attempt `attempt` (from 1) of logical request `requestID` may be sent now.
    func admit(requestID: Int64, attempt: Int32) -> Admission
    /// Reports how an admitted attempt ended and returns what the engine should do next.
    func complete(requestID: Int64, attempt: Int32, outcome: AttemptOutcome) -> AttemptDecision
    /// A gate (such as a concurrency limiter) each admitted attempt enters before it is sent and leaves when its
    /// result is in; nil (the default) for none. Engines read it once per run. When entering fails the attempt is
    /// not sent: the engine reports it to `complete` as `.limiterTimeout` with status 0, or, when the run is
    /// stopping, ends the request as `.cancelled` without asking `complete`.
    var gate: (any AttemptGate)? { get }
}

extension AttemptPolicy {
    /// No gate: attempts are sent as soon as they are admitted.
    public var gate: (any AttemptGate)? { nil }
}

/// The answer to `AttemptPolicy.admit`.
public enum Admission: Sendable, Hashable {
    /// Send the attempt.
    case proceed
    /// Do not send; the logical request ends with this class (for example `.circuitOpen`). The engine records
    /// a final sample for this attempt with no time spent, status 0 and this class.
    case reject(ErrorClass)
}

/// What an engine observed for one attempt.
public struct AttemptOutcome: Sendable, Hashable {
    /// How it ended.
    public var errorClass: ErrorClass
    /// The HTTP status, or 0.
    public var status: Int
    /// How long the attempt took.
    public var duration: Duration
    /// The server's `Retry-After` header value, if any, verbatim.
    public var retryAfter: String?

    public init(errorClass: ErrorClass, status: Int, duration: Duration, retryAfter: String? = nil) {
        self.errorClass = errorClass
        self.status = status
        self.duration = duration
        self.retryAfter = retryAfter
    }
}

/// The answer to `AttemptPolicy.complete`.
public enum AttemptDecision: Sendable, Hashable {
    /// The attempt is the logical request's final outcome.
    case finish
    /// Wait this long, then send the next attempt (which is admitted again).
    case retry(after: Duration)
    /// Do not retry; the logical request ends with this class (for example `.budgetExhausted`). The engine
    /// records the attempt it just made as not final, then one more sample with attempt + 1, no time spent,
    /// status 0 and this class, marked final.
    case giveUp(ErrorClass)
}

/// The policy with no resilience: one attempt per request, always admitted.
public struct SingleAttemptPolicy: AttemptPolicy {
    public init() {}
    public func admit(requestID: Int64, attempt: Int32) -> Admission { .proceed }
    public func complete(requestID: Int64, attempt: Int32, outcome: AttemptOutcome) -> AttemptDecision { .finish }
}
