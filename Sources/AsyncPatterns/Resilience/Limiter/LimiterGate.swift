/// An `AttemptGate` over a `ConcurrencyLimiter`: at most the limiter's limit of attempts in flight at once, each
/// waiting at most `acquireTimeout` (nil: no limit) for its permit. Timeouts are counted in the limiter's metrics.
public struct LimiterGate<C: Clock>: AttemptGate where C.Duration == Duration {
    /// The limiter whose permits the gate hands out.
    public let limiter: ConcurrencyLimiter<C>
    /// How long an attempt may wait for a permit; nil: no limit.
    public let acquireTimeout: Duration?

    /// Creates a gate over `limiter` whose waits end after `acquireTimeout` (nil: never).
    public init(limiter: ConcurrencyLimiter<C>, acquireTimeout: Duration?) {
        self.limiter = limiter
        self.acquireTimeout = acquireTimeout
    }

    public func enter() async -> Bool { await limiter.acquire(timeout: acquireTimeout) }

    public func enterBlocking() -> Bool { limiter.acquireBlocking(timeout: acquireTimeout) }

    public func leave() { limiter.release() }
}
