/// When and how long to wait before retrying an attempt: max attempts, backoff, `Retry-After`, and which outcomes
/// are retryable. A pure value: the per-request jitter comes from a seed, so a request's delays are the same
/// whatever order requests complete in.
public struct RetryPolicy: Sendable {
    /// Attempts per logical request, the first one included (1 means never retry). Default 3.
    public var maxAttempts: Int
    /// How long to wait before each retry. Default: full jitter, base 10 ms, cap 1 s.
    public var backoff: any BackoffStrategy
    /// The longest wait before a retry, whether from backoff or `Retry-After`. Default 5 s.
    public var maxDelay: Duration
    /// Whether a parseable `Retry-After` replaces the backoff delay (still capped at `maxDelay`). Default true.
    public var respectRetryAfter: Bool
    /// Error classes that are retried. Default `RetryPolicy.defaultRetryableClasses`.
    public var retryableClasses: Set<ErrorClass> {
        didSet { retryableMask = ErrorClassMask(retryableClasses) }
    }
    private var retryableMask: ErrorClassMask
    /// HTTP statuses retried whatever their class (e.g. 409 for contention studies). Default [408].
    public var retryableStatuses: Set<Int> {
        didSet { retryableStatusList = retryableStatuses.sorted() }
    }
    /// `retryableStatuses` as a list: a few entries, scanned faster than a set hashes (every failed attempt asks).
    private var retryableStatusList: [Int]

    /// Connect errors (refused, reset, other transport), timeouts, 5xx and 429.
    public static let defaultRetryableClasses: Set<ErrorClass> = [
        .refused, .reset, .other, .timeout, .http5xx, .http429,
    ]

    /// Creates a retry policy; every argument has the default documented on its property.
    public init(
        maxAttempts: Int = 3,
        backoff: some BackoffStrategy = FullJitterBackoff(base: .milliseconds(10), cap: .seconds(1)),
        maxDelay: Duration = .seconds(5),
        respectRetryAfter: Bool = true,
        retryableClasses: Set<ErrorClass> = RetryPolicy.defaultRetryableClasses,
        retryableStatuses: Set<Int> = [408]
    ) {
        precondition(maxAttempts >= 1, "maxAttempts counts the first attempt, so it must be at least 1")
        precondition(maxDelay >= .zero, "maxDelay must not be negative")
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.maxDelay = maxDelay
        self.respectRetryAfter = respectRetryAfter
        self.retryableClasses = retryableClasses
        self.retryableMask = ErrorClassMask(retryableClasses)
        self.retryableStatuses = retryableStatuses
        self.retryableStatusList = retryableStatuses.sorted()
    }

    /// What to do after an attempt.
    public enum Decision: Sendable, Hashable {
        /// The attempt is final: it succeeded, is not retryable, or was the last attempt allowed.
        case finish
        /// Retry after this delay.
        case retry(after: Duration)
    }

    /// Whether `outcome` may be retried at all (ignoring the attempt count). Successes, cancellations and local
    /// rejections never are.
    public func isRetryable(_ outcome: AttemptOutcome) -> Bool {
        switch outcome.errorClass {
        case .ok, .cancelled, .circuitOpen, .budgetExhausted, .throttled, .limiterTimeout: return false
        default: break
        }
        if outcome.status != 0, retryableStatusList.contains(outcome.status) { return true }
        return retryableMask.contains(outcome.errorClass)
    }

    /// Decides what follows attempt `attempt` (from 1). `seed` fixes this request's jitter; `wallNow` is read only
    /// when a `Retry-After` date has to be resolved.
    public func decide(
        attempt: Int, outcome: AttemptOutcome, seed: UInt64, wallNow: () -> Duration
    ) -> Decision {
        guard attempt < maxAttempts, isRetryable(outcome) else { return .finish }
        if respectRetryAfter, let header = outcome.retryAfter,
            let asked = RetryAfter.delay(header, nowSinceEpoch: wallNow())
        {
            return .retry(after: min(asked, maxDelay))
        }
        return .retry(after: min(backoffDelay(retry: attempt - 1, seed: seed), maxDelay))
    }

    /// The backoff delay before zero-based retry `retry` of the request whose jitter seed is `seed` (not capped by
    /// `maxDelay`). Each retry index draws from its own generator, so the sequence is fixed by the seed.
    public func backoffDelay(retry: Int, seed: UInt64) -> Duration {
        if !backoff.usesPreviousDelay {
            var generator = SplitMix64(seed: mixSeed(seed, UInt64(retry)))
            return backoff.delay(retry: retry, previous: nil, using: &generator)
        }
        var previous: Duration? = nil
        for index in 0...max(retry, 0) {
            var generator = SplitMix64(seed: mixSeed(seed, UInt64(index)))
            previous = backoff.delay(retry: index, previous: previous, using: &generator)
        }
        return previous!
    }
}
