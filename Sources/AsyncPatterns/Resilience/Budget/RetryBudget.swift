/// Thread-safe retry budgets, one per key (for example one per host), over `RetryBudgetStateMachine`.
/// Never waits, so blocking threads and async tasks use it alike.
public final class RetryBudget<C: Clock>: Sendable where C.Duration == Duration {
    private let configuration: RetryBudgetConfiguration
    private let elapsed: Elapsed<C>
    private let budgets: LockedBox<[String: RetryBudgetStateMachine]>

    /// Creates budgets for every key, each starting full, reading time from `clock`.
    public init(configuration: RetryBudgetConfiguration, clock: C) {
        self.configuration = configuration
        self.elapsed = Elapsed(clock: clock)
        self.budgets = LockedBox([:])
    }

    private func withBudget<T>(_ key: String, _ body: (inout RetryBudgetStateMachine) -> T) -> T {
        budgets.withLock { budgets in
            body(&budgets[key, default: RetryBudgetStateMachine(configuration: configuration)])
        }
    }

    /// Notes that a logical request for `key` sent its first attempt.
    public func recordRequest(key: String = "") {
        let now = elapsed.now()
        withBudget(key) { $0.recordRequest(now: now) }
    }

    /// Notes that an attempt for `key` succeeded.
    public func recordSuccess(key: String = "") {
        withBudget(key) { $0.recordSuccess() }
    }

    /// Spends one retry from `key`'s budget; false when the budget is exhausted (the request must give up).
    public func tryWithdraw(key: String = "") -> Bool {
        let now = elapsed.now()
        return withBudget(key) { $0.tryWithdraw(now: now) }
    }

    /// Tokens (token bucket) or retries allowed now (ratio) left in `key`'s budget.
    public func available(key: String = "") -> Double {
        let now = elapsed.now()
        return withBudget(key) { $0.available(now: now) }
    }

    /// Retries granted and refused so far for `key`.
    public func counts(key: String = "") -> (granted: Int, refused: Int) {
        withBudget(key) { ($0.granted, $0.refused) }
    }
}

extension RetryBudget where C == ContinuousClock {
    /// Creates budgets on the continuous clock.
    public convenience init(configuration: RetryBudgetConfiguration) {
        self.init(configuration: configuration, clock: ContinuousClock())
    }
}
