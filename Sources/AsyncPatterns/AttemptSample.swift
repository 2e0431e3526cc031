/// One attempt of one logical request, as an engine saw it. Engines emit one per attempt; a logical
/// request's last attempt carries `isFinal`, so every logical request has exactly one final outcome.
///
/// Times are nanoseconds since the start of the cell on a monotonic clock.
public struct AttemptSample: Sendable, Hashable, Codable {
    /// The logical request's id within its cell, from 0.
    public var requestID: Int64
    /// The attempt number, from 1 (the first try).
    public var attempt: Int32
    /// When this attempt should have been sent (open loop: the schedule; closed loop: equals `startNs`), in ns.
    public var intendedNs: Int64
    /// When the attempt was actually sent, in ns.
    public var startNs: Int64
    /// When the attempt ended (response received, or the error observed), in ns.
    public var endNs: Int64
    /// The HTTP status code, or 0 when no response arrived.
    public var status: Int32
    /// How the attempt ended.
    public var errorClass: ErrorClass
    /// Response body bytes received.
    public var bytes: Int64
    /// Whether this attempt is the logical request's final outcome.
    public var isFinal: Bool
    /// Whether the logical request belongs to the warm-up (recorded, excluded from statistics).
    public var isWarmup: Bool

    public init(
        requestID: Int64, attempt: Int32, intendedNs: Int64, startNs: Int64, endNs: Int64, status: Int32,
        errorClass: ErrorClass, bytes: Int64, isFinal: Bool, isWarmup: Bool = false
    ) {
        self.requestID = requestID
        self.attempt = attempt
        self.intendedNs = intendedNs
        self.startNs = startNs
        self.endNs = endNs
        self.status = status
        self.errorClass = errorClass
        self.bytes = bytes
        self.isFinal = isFinal
        self.isWarmup = isWarmup
    }

    /// Latency measured from the intended send time (coordinated-omission corrected), in ns.
    public var correctedLatencyNs: Int64 { endNs - intendedNs }
    /// Latency measured from the actual send time (uncorrected), in ns.
    public var latencyNs: Int64 { endNs - startNs }
}

/// How an attempt ended. The raw values are stable short labels stored in SQLite and shown in reports.
public enum ErrorClass: String, Sendable, Hashable, Codable, CaseIterable {
    /// A 2xx or 3xx response.
    case ok
    /// A 4xx response other than 429.
    case http4xx = "http_4xx"
    /// A 429 Too Many Requests response.
    case http429 = "http_429"
    /// A 5xx response.
    case http5xx = "http_5xx"
    /// The connect or request timeout fired.
    case timeout
    /// The connection was refused.
    case refused
    /// The connection was reset or closed before a full response arrived.
    case reset
    /// The circuit breaker rejected the call without sending it.
    case circuitOpen = "circuit_open"
    /// The retry budget refused a retry; the request ends here.
    case budgetExhausted = "budget_exhausted"
    /// The adaptive throttle rejected the call without sending it.
    case throttled
    /// The concurrency limiter's acquire timeout fired.
    case limiterTimeout = "limiter_timeout"
    /// The engine shut down before the attempt could finish.
    case cancelled
    /// Any other transport error.
    case other

    /// Classifies an HTTP status code.
    public init(status: Int) {
        switch status {
        case 429: self = .http429
        case 500...: self = .http5xx
        case 400...: self = .http4xx
        default: self = .ok
        }
    }

    /// Whether the attempt succeeded.
    public var isSuccess: Bool { self == .ok }
}

/// Where engines send their samples. Implementations must be thread-safe: the threaded engine calls
/// `record` from many threads at once.
public protocol SampleSink: Sendable {
    /// Accepts one attempt's sample.
    func record(_ sample: AttemptSample)
}
