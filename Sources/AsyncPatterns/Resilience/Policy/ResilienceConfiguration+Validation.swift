extension ResilienceConfiguration {
    /// Checks every value's range; throws `ResilienceConfigurationError` naming the first bad key path, its value
    /// and what is allowed.
    public func validate() throws {
        if let retry { try retry.validate() }
        if let budget { try budget.validate() }
        if let breaker { try breaker.validate() }
        if let throttle { try throttle.validate() }
        if let limiter { try limiter.validate() }
    }
}

private func check(_ ok: Bool, _ keyPath: String, _ value: String, _ allowed: String) throws {
    if !ok { throw ResilienceConfigurationError.invalidValue(keyPath, value, allowed: allowed) }
}

private func checkInt(_ value: Int, _ range: ClosedRange<Int>, _ keyPath: String) throws {
    try check(
        range.contains(value), keyPath, String(value),
        "use an integer from \(range.lowerBound) to \(range.upperBound)")
}

private func checkNumber(_ value: Double, _ range: ClosedRange<Double>, _ keyPath: String, _ allowed: String) throws {
    try check(value.isFinite && range.contains(value), keyPath, resilienceNumberText(value), allowed)
}

private let maxMilliseconds = 3_600_000.0

extension ResilienceConfiguration.Retry {
    func validate() throws {
        try checkInt(maxAttempts, 1...100, "retry.maxAttempts")
        try checkNumber(
            capMs, 0...maxMilliseconds, "retry.capMs", "use a number of milliseconds from 0 to 3600000")
        try checkNumber(
            baseMs, 0...max(0, capMs), "retry.baseMs",
            "use a number of milliseconds from 0 to retry.capMs (\(resilienceNumberText(capMs)))")
        try checkNumber(
            maxDelayMs, 0...maxMilliseconds, "retry.maxDelayMs", "use a number of milliseconds from 0 to 3600000")
        for status in retryOnStatus {
            try check(
                (100...599).contains(status), "retry.retryOnStatus", String(status), "use HTTP statuses 100...599")
        }
        if let retryOn {
            for errorClass in retryOn {
                switch errorClass {
                case .ok, .cancelled, .circuitOpen, .budgetExhausted, .throttled, .limiterTimeout:
                    try check(
                        false, "retry.retryOn", "\"\(errorClass.rawValue)\"",
                        "retry only outcomes of a sent attempt: http_4xx, http_429, http_5xx, timeout, refused, reset,"
                            + " other")
                default: break
                }
            }
        }
    }

    /// The retry policy these settings describe (call `validate()` first).
    public func makePolicy() -> RetryPolicy {
        let base = Duration.milliseconds(double: baseMs)
        let cap = Duration.milliseconds(double: capMs)
        let strategy: any BackoffStrategy =
            switch backoff {
            case .none: ImmediateBackoff()
            case .exponential: ExponentialBackoff(base: base, cap: cap)
            case .full: FullJitterBackoff(base: base, cap: cap)
            case .equal: EqualJitterBackoff(base: base, cap: cap)
            case .decorrelated: DecorrelatedJitterBackoff(base: base, cap: cap)
            }
        var policy = RetryPolicy(
            maxAttempts: maxAttempts, maxDelay: .milliseconds(double: maxDelayMs), respectRetryAfter: respectRetryAfter,
            retryableClasses: retryOn.map(Set.init) ?? RetryPolicy.defaultRetryableClasses,
            retryableStatuses: Set(retryOnStatus))
        policy.backoff = strategy
        return policy
    }
}

extension ResilienceConfiguration.Budget {
    func validate() throws {
        switch kind {
        case .tokenBucket:
            try checkNumber(
                maxTokens, 0.001...1_000_000, "budget.maxTokens", "use a number of tokens from 0.001 to 1000000")
            try checkNumber(
                costPerRetry, 0.001...max(0.001, maxTokens), "budget.costPerRetry",
                "use a number of tokens from 0.001 to budget.maxTokens (\(resilienceNumberText(maxTokens)))")
            try checkNumber(
                refundPerSuccess, 0...max(0, maxTokens), "budget.refundPerSuccess",
                "use a number of tokens from 0 to budget.maxTokens (\(resilienceNumberText(maxTokens)))")
        case .ratio:
            try checkNumber(ratio, 0...10, "budget.ratio", "use a number from 0 to 10")
            try checkNumber(
                windowMs, 1...maxMilliseconds, "budget.windowMs", ResilienceConfiguration.Ranges.milliseconds)
            try checkNumber(
                minRetriesPerSecond, 0...1_000_000, "budget.minRetriesPerSecond", "use a number from 0 to 1000000")
        }
    }

    /// The budget these settings describe (call `validate()` first).
    public func makeConfiguration() -> RetryBudgetConfiguration {
        switch kind {
        case .tokenBucket:
            .tokenBucket(maxTokens: maxTokens, costPerRetry: costPerRetry, refundPerSuccess: refundPerSuccess)
        case .ratio:
            .ratio(ratio: ratio, window: .milliseconds(double: windowMs), minRetriesPerSecond: minRetriesPerSecond)
        }
    }
}

extension ResilienceConfiguration.Breaker {
    func validate() throws {
        switch window {
        case .count:
            try checkInt(windowSize, 1...100_000, "breaker.windowSize")
            try check(
                minimumCalls >= 1 && minimumCalls <= windowSize, "breaker.minimumCalls", String(minimumCalls),
                "use an integer from 1 to breaker.windowSize (\(windowSize))")
        case .time:
            try checkNumber(
                windowMs, 1...maxMilliseconds, "breaker.windowMs", ResilienceConfiguration.Ranges.milliseconds)
            try checkInt(buckets, 1...1000, "breaker.buckets")
            try check(
                minimumCalls >= 1 && minimumCalls <= 100_000_000, "breaker.minimumCalls", String(minimumCalls),
                "use an integer from 1 to 100000000")
        }
        try check(
            failureRate != nil || failureCount != nil || slowCallRate != nil, "breaker", "no trip threshold",
            "set failureRate, failureCount or slowCallRate")
        if let failureRate {
            try checkNumber(
                failureRate, .ulpOfOne...1, "breaker.failureRate", ResilienceConfiguration.Ranges.fraction)
        }
        if let failureCount {
            let upper = window == .count ? windowSize : 100_000_000
            try check(
                failureCount >= 1 && failureCount <= upper, "breaker.failureCount", String(failureCount),
                "use an integer from 1 to \(window == .count ? "breaker.windowSize (\(windowSize))" : String(upper))")
        }
        if let slowCallRate {
            try checkNumber(
                slowCallRate, .ulpOfOne...1, "breaker.slowCallRate", ResilienceConfiguration.Ranges.fraction)
        }
        try checkNumber(
            slowCallMs, 0.001...maxMilliseconds, "breaker.slowCallMs",
            "use a number of milliseconds from 0.001 to 3600000")
        try checkNumber(openMs, 0...86_400_000, "breaker.openMs", "use a number of milliseconds from 0 to 86400000")
        try checkInt(halfOpenProbes, 1...1000, "breaker.halfOpenProbes")
    }

    /// The breaker configuration these settings describe (call `validate()` first).
    public func makeConfiguration() -> CircuitBreakerConfiguration {
        let window: CircuitBreakerConfiguration.Window =
            switch self.window {
            case .count: .count(calls: windowSize)
            case .time: .time(duration: .milliseconds(double: windowMs), buckets: buckets)
            }
        return CircuitBreakerConfiguration(
            window: window, minimumCalls: minimumCalls, failureRateThreshold: failureRate,
            failureCountThreshold: failureCount, slowCallRateThreshold: slowCallRate,
            slowCallDuration: .milliseconds(double: slowCallMs), openDuration: .milliseconds(double: openMs),
            halfOpenProbes: halfOpenProbes,
            failureClasses: failureClasses.map(Set.init) ?? CircuitBreakerConfiguration.defaultFailureClasses)
    }
}

extension ResilienceConfiguration.Throttle {
    func validate() throws {
        try check(
            k.isFinite && k > 0 && k <= 100, "throttle.k", resilienceNumberText(k),
            "use a number greater than 0 and at most 100")
        try checkNumber(
            windowMs, 1...maxMilliseconds, "throttle.windowMs", ResilienceConfiguration.Ranges.milliseconds)
        try checkInt(buckets, 1...3600, "throttle.buckets")
    }

    /// The throttle configuration these settings describe (call `validate()` first).
    public func makeConfiguration() -> AdaptiveThrottleConfiguration {
        AdaptiveThrottleConfiguration(k: k, window: .milliseconds(double: windowMs), buckets: buckets)
    }
}

extension ResilienceConfiguration.Limiter {
    func validate() throws {
        try checkInt(limit, 1...100_000, "limiter.limit")
        if let acquireTimeoutMs {
            try checkNumber(
                acquireTimeoutMs, 0...maxMilliseconds, "limiter.acquireTimeoutMs",
                "use a number of milliseconds from 0 to 3600000, or leave it out for no timeout")
        }
    }

    /// A limiter with this limit whose async timeouts run on `clock` (call `validate()` first).
    public func makeLimiter<C: Clock>(clock: C) -> ConcurrencyLimiter<C> where C.Duration == Duration {
        ConcurrencyLimiter(limit: limit, clock: clock)
    }

    /// The acquire timeout, or nil for none.
    public var acquireTimeout: Duration? { acquireTimeoutMs.map { .milliseconds(double: $0) } }
}
