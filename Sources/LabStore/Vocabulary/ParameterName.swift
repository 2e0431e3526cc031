/// The name of a cell parameter: a key a spec may set in `axes` or `fixed`, and a key of the canonical JSON in
/// `cells.params` (`CellParameters`). Each has a value type and a default (`ParameterName+Defaults.swift`). The
/// runner's parameter registry and the report's chart axes use these names; the raw values are the stored text, so
/// cell ids and databases do not change.
public enum ParameterName: String, Sendable, Hashable, CaseIterable, Codable {
    /// Closed loop: workers; open loop: the cap on requests in flight.
    case concurrency
    /// Server latency, ms.
    case latencyMs
    /// Server latency jitter, a fraction of `latencyMs` (not backoff jitter: that is `backoff`).
    case jitter
    /// Server latency distribution.
    case latencyModel
    /// Fraction of requests the server fails.
    case errorRate
    /// Reuse connections, or a new connection per request.
    case pooling
    /// Closed loop, or open loop with fixed-interval or Poisson arrivals.
    case load
    /// Open loop: arrivals per second.
    case rate
    /// The path every request asks for.
    case path
    /// Retry backoff strategy, jittered or not; `off` means no retries.
    case backoff
    /// Attempts per request, the first included.
    case maxAttempts
    /// Backoff base delay, ms.
    case baseMs
    /// Backoff cap, ms.
    case capMs
    /// Retry budget.
    case budget
    /// Circuit breaker, on or off.
    case breaker
    /// Adaptive client-side throttle.
    case throttle
    /// Concurrency limiter over the cell's attempts in flight.
    case limiter
    /// Longest wait for a limiter permit, ms.
    case acquireTimeoutMs
    /// Request timeout, ms.
    case timeoutMs
    /// What the sample pipeline does when full.
    case recorderPolicy
    /// Sample pipeline capacity, samples.
    case recorderCapacity
    /// Samples per database transaction.
    case recorderBatch
    /// Extra time the database writer spends per batch, ms.
    case writerDelayMs
    /// Connect timeout, ms.
    case connectTimeoutMs
    /// The `sim` engine's network round trip per attempt, mean, ms (live engines run over loopback: 0 only).
    case networkMs
    /// The standard deviation of the `sim` engine's round trip, ms: 0 for a fixed round trip, else |N(mean, sd)|.
    case networkSdMs
}

extension Dictionary where Key == String {
    /// The value stored under a parameter's name.
    public subscript(_ name: ParameterName) -> Value? {
        get { self[name.rawValue] }
        set { self[name.rawValue] = newValue }
    }
}
