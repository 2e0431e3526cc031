/// The resilience settings of an experiment cell, in the JSON shape experiment specs use. Every field is optional
/// or defaulted, so `{}` means "no resilience": one attempt, nothing rejected. Decoding rejects unknown keys and
/// wrong types; call `validate()` for ranges. Example:
///
///     {"retry": {"maxAttempts": 3, "backoff": "full", "baseMs": 10, "capMs": 1000, "maxDelayMs": 5000},
///      "budget": {"kind": "tokenBucket", "maxTokens": 10, "costPerRetry": 1, "refundPerSuccess": 0.1},
///      "breaker": {"window": "count", "windowSize": 20, "minimumCalls": 10, "failureRate": 0.5, "openMs": 5000},
///      "throttle": {"k": 2, "windowMs": 60000}, "limiter": {"limit": 64, "acquireTimeoutMs": 100}}
public struct ResilienceConfiguration: Sendable, Codable, Hashable {
    /// Retry settings; nil: never retry. Default nil.
    public var retry: Retry?
    /// Retry budget; nil: retries are limited only by `retry.maxAttempts`. Default nil.
    public var budget: Budget?
    /// Circuit breaker; nil: no breaker. Default nil.
    public var breaker: Breaker?
    /// Adaptive client-side throttle; nil: no throttle. Default nil.
    public var throttle: Throttle?
    /// Concurrency limiter every engine holds around each sent attempt (`ResiliencePolicy.gate`); nil: the engine's
    /// own concurrency only. Default nil.
    public var limiter: Limiter?

    /// No resilience at all.
    public static let none = ResilienceConfiguration()

    /// Creates a configuration; every argument defaults to nil (off).
    public init(
        retry: Retry? = nil, budget: Budget? = nil, breaker: Breaker? = nil, throttle: Throttle? = nil,
        limiter: Limiter? = nil
    ) {
        self.retry = retry
        self.budget = budget
        self.breaker = breaker
        self.throttle = throttle
        self.limiter = limiter
    }

    static let keys = ["retry", "budget", "breaker", "throttle", "limiter"]

    public init(from decoder: any Decoder) throws {
        let reader = try ConfigurationReader(decoder, keys: Self.keys)
        retry = try reader.optional("retry", Retry.self, expected: "use an object such as {\"maxAttempts\": 3}")
        budget = try reader.optional("budget", Budget.self, expected: "use an object such as {\"kind\": \"ratio\"}")
        breaker = try reader.optional("breaker", Breaker.self, expected: "use an object such as {\"openMs\": 5000}")
        throttle = try reader.optional("throttle", Throttle.self, expected: "use an object such as {\"k\": 2}")
        limiter = try reader.optional("limiter", Limiter.self, expected: "use an object such as {\"limit\": 64}")
    }

    /// Retry settings: attempts, backoff, `Retry-After` and what is retryable.
    public struct Retry: Sendable, Codable, Hashable {
        /// The backoff strategy names used in specs.
        public enum Backoff: String, Sendable, Codable, Hashable, CaseIterable {
            /// No delay.
            case none
            /// `min(cap, base·2^n)`.
            case exponential
            /// `random(0, min(cap, base·2^n))`.
            case full
            /// `t/2 + random(0, t/2)`.
            case equal
            /// `min(cap, random(base, previous·3))`.
            case decorrelated
        }

        /// Attempts per logical request, the first included; 1...100. Default 3.
        public var maxAttempts: Int
        /// Backoff strategy. Default "full".
        public var backoff: Backoff
        /// Backoff base, in ms; 0...capMs. Default 10.
        public var baseMs: Double
        /// Backoff cap, in ms; up to 3,600,000. Default 1000.
        public var capMs: Double
        /// Longest wait before a retry (backoff or Retry-After), in ms; 0...3,600,000. Default 5000.
        public var maxDelayMs: Double
        /// Whether `Retry-After` replaces the backoff delay (capped at maxDelayMs). Default true.
        public var respectRetryAfter: Bool
        /// Error classes retried; nil: connect errors, timeouts, 5xx and 429. Default nil.
        public var retryOn: [ErrorClass]?
        /// HTTP statuses retried whatever their class, 100...599. Default [408].
        public var retryOnStatus: [Int]

        /// Creates retry settings; every argument has the default documented on its property.
        public init(
            maxAttempts: Int = 3, backoff: Backoff = .full, baseMs: Double = 10, capMs: Double = 1000,
            maxDelayMs: Double = 5000, respectRetryAfter: Bool = true, retryOn: [ErrorClass]? = nil,
            retryOnStatus: [Int] = [408]
        ) {
            self.maxAttempts = maxAttempts
            self.backoff = backoff
            self.baseMs = baseMs
            self.capMs = capMs
            self.maxDelayMs = maxDelayMs
            self.respectRetryAfter = respectRetryAfter
            self.retryOn = retryOn
            self.retryOnStatus = retryOnStatus
        }

        static let keys = [
            "maxAttempts", "backoff", "baseMs", "capMs", "maxDelayMs", "respectRetryAfter", "retryOn", "retryOnStatus",
        ]

        public init(from decoder: any Decoder) throws {
            let r = try ConfigurationReader(decoder, keys: Self.keys)
            let defaults = Retry()
            maxAttempts = try r.value("maxAttempts", default: defaults.maxAttempts, expected: Ranges.maxAttempts)
            backoff = try r.choice("backoff", Backoff.allCases.map { ($0.rawValue, $0) }, default: defaults.backoff)
            baseMs = try r.value("baseMs", default: defaults.baseMs, expected: "use a number of milliseconds >= 0")
            capMs = try r.value("capMs", default: defaults.capMs, expected: Ranges.milliseconds)
            maxDelayMs = try r.value("maxDelayMs", default: defaults.maxDelayMs, expected: Ranges.milliseconds)
            respectRetryAfter = try r.value(
                "respectRetryAfter", default: defaults.respectRetryAfter, expected: "use true or false")
            retryOn = try r.errorClasses("retryOn")
            retryOnStatus = try r.value(
                "retryOnStatus", default: defaults.retryOnStatus, expected: "use a list of HTTP statuses 100...599")
        }
    }

    /// A retry budget: a token bucket or a ratio of recent requests.
    public struct Budget: Sendable, Codable, Hashable {
        /// The budget kinds used in specs.
        public enum Kind: String, Sendable, Codable, Hashable, CaseIterable {
            /// gRPC-style token bucket.
            case tokenBucket
            /// Finagle/Envoy-style ratio of recent requests.
            case ratio
        }

        /// Which budget. Default "tokenBucket".
        public var kind: Kind
        /// Token bucket: tokens when full (it starts full), 0.001...1,000,000. Default 10.
        public var maxTokens: Double
        /// Token bucket: tokens a retry spends, 0.001...maxTokens. Default 1.
        public var costPerRetry: Double
        /// Token bucket: tokens a successful attempt refunds, 0...maxTokens. Default 0.1.
        public var refundPerSuccess: Double
        /// Ratio: retries allowed per logical request in the window, 0...10. Default 0.2.
        public var ratio: Double
        /// Ratio: the window, in ms; 1...3,600,000. Default 10000.
        public var windowMs: Double
        /// Ratio: retries per second always allowed, 0...1,000,000. Default 10.
        public var minRetriesPerSecond: Double

        /// Creates budget settings; every argument has the default documented on its property.
        public init(
            kind: Kind = .tokenBucket, maxTokens: Double = 10, costPerRetry: Double = 1, refundPerSuccess: Double = 0.1,
            ratio: Double = 0.2, windowMs: Double = 10_000, minRetriesPerSecond: Double = 10
        ) {
            self.kind = kind
            self.maxTokens = maxTokens
            self.costPerRetry = costPerRetry
            self.refundPerSuccess = refundPerSuccess
            self.ratio = ratio
            self.windowMs = windowMs
            self.minRetriesPerSecond = minRetriesPerSecond
        }

        static let keys = [
            "kind", "maxTokens", "costPerRetry", "refundPerSuccess", "ratio", "windowMs", "minRetriesPerSecond",
        ]

        public init(from decoder: any Decoder) throws {
            let r = try ConfigurationReader(decoder, keys: Self.keys)
            let d = Budget()
            kind = try r.choice("kind", Kind.allCases.map { ($0.rawValue, $0) }, default: d.kind)
            maxTokens = try r.value("maxTokens", default: d.maxTokens, expected: "use a number of tokens > 0")
            costPerRetry = try r.value("costPerRetry", default: d.costPerRetry, expected: "use a number of tokens > 0")
            refundPerSuccess = try r.value(
                "refundPerSuccess", default: d.refundPerSuccess, expected: "use a number of tokens >= 0")
            ratio = try r.value("ratio", default: d.ratio, expected: "use a number from 0 to 10")
            windowMs = try r.value("windowMs", default: d.windowMs, expected: Ranges.milliseconds)
            minRetriesPerSecond = try r.value(
                "minRetriesPerSecond", default: d.minRetriesPerSecond, expected: "use a number >= 0")
        }
    }

    /// Circuit breaker settings. When none of failureRate, failureCount and slowCallRate is given, failureRate is
    /// 0.5; give any of them to choose the trips yourself.
    public struct Breaker: Sendable, Codable, Hashable {
        /// The sliding window kinds used in specs.
        public enum WindowKind: String, Sendable, Codable, Hashable, CaseIterable {
            /// The last `windowSize` calls.
            case count
            /// The calls of the last `windowMs`.
            case time
        }

        /// Sliding window kind. Default "count".
        public var window: WindowKind
        /// Count window: calls in the window, 1...100,000. Default 100.
        public var windowSize: Int
        /// Time window: its length in ms, 1...3,600,000. Default 10000.
        public var windowMs: Double
        /// Time window: buckets it is split into, 1...1000. Default 10.
        public var buckets: Int
        /// Calls needed in the window before any trip is evaluated, >= 1 (<= windowSize for a count window).
        /// Default 10.
        public var minimumCalls: Int
        /// Trip when failures/calls >= this, in (0, 1]; nil: off. Default 0.5 (see the type's note).
        public var failureRate: Double?
        /// Trip when failures in the window >= this, >= 1; nil: off. Default nil.
        public var failureCount: Int?
        /// Trip when slow calls/calls >= this, in (0, 1]; nil: off. Default nil.
        public var slowCallRate: Double?
        /// A call longer than this is slow, in ms; > 0. Default 1000.
        public var slowCallMs: Double
        /// How long the breaker stays open, in ms; 0...86,400,000. Default 5000.
        public var openMs: Double
        /// Probe calls admitted in half-open, 1...1000. Default 3.
        public var halfOpenProbes: Int
        /// Error classes counted as failures; nil: 5xx, timeout, refused, reset, other. Default nil.
        public var failureClasses: [ErrorClass]?

        /// Creates breaker settings; every argument has the default documented on its property.
        public init(
            window: WindowKind = .count, windowSize: Int = 100, windowMs: Double = 10_000, buckets: Int = 10,
            minimumCalls: Int = 10, failureRate: Double? = 0.5, failureCount: Int? = nil, slowCallRate: Double? = nil,
            slowCallMs: Double = 1000, openMs: Double = 5000, halfOpenProbes: Int = 3,
            failureClasses: [ErrorClass]? = nil
        ) {
            self.window = window
            self.windowSize = windowSize
            self.windowMs = windowMs
            self.buckets = buckets
            self.minimumCalls = minimumCalls
            self.failureRate = failureRate
            self.failureCount = failureCount
            self.slowCallRate = slowCallRate
            self.slowCallMs = slowCallMs
            self.openMs = openMs
            self.halfOpenProbes = halfOpenProbes
            self.failureClasses = failureClasses
        }

        static let keys = [
            "window", "windowSize", "windowMs", "buckets", "minimumCalls", "failureRate", "failureCount",
            "slowCallRate", "slowCallMs", "openMs", "halfOpenProbes", "failureClasses",
        ]

        public init(from decoder: any Decoder) throws {
            let r = try ConfigurationReader(decoder, keys: Self.keys)
            let d = Breaker()
            window = try r.choice("window", WindowKind.allCases.map { ($0.rawValue, $0) }, default: d.window)
            windowSize = try r.value("windowSize", default: d.windowSize, expected: "use an integer from 1 to 100000")
            windowMs = try r.value("windowMs", default: d.windowMs, expected: Ranges.milliseconds)
            buckets = try r.value("buckets", default: d.buckets, expected: "use an integer from 1 to 1000")
            minimumCalls = try r.value("minimumCalls", default: d.minimumCalls, expected: "use an integer >= 1")
            let anyTrip = r.mentions("failureRate") || r.mentions("failureCount") || r.mentions("slowCallRate")
            failureRate = try r.optional("failureRate", Double.self, expected: Ranges.fraction)
            if !anyTrip { failureRate = d.failureRate }
            failureCount = try r.optional("failureCount", Int.self, expected: "use an integer >= 1")
            slowCallRate = try r.optional("slowCallRate", Double.self, expected: Ranges.fraction)
            slowCallMs = try r.value("slowCallMs", default: d.slowCallMs, expected: "use a number of milliseconds > 0")
            openMs = try r.value("openMs", default: d.openMs, expected: "use a number of milliseconds >= 0")
            halfOpenProbes = try r.value(
                "halfOpenProbes", default: d.halfOpenProbes, expected: "use an integer from 1 to 1000")
            failureClasses = try r.errorClasses("failureClasses")
        }
    }

    /// Adaptive throttle settings (Google SRE book).
    public struct Throttle: Sendable, Codable, Hashable {
        /// The multiplier K, in (0, 100]. Default 2.
        public var k: Double
        /// The counting window, in ms; 1...3,600,000. Default 60000.
        public var windowMs: Double
        /// Buckets the window is split into, 1...3600. Default 60.
        public var buckets: Int

        /// Creates throttle settings; every argument has the default documented on its property.
        public init(k: Double = 2, windowMs: Double = 60_000, buckets: Int = 60) {
            self.k = k
            self.windowMs = windowMs
            self.buckets = buckets
        }

        static let keys = ["k", "windowMs", "buckets"]

        public init(from decoder: any Decoder) throws {
            let r = try ConfigurationReader(decoder, keys: Self.keys)
            let d = Throttle()
            k = try r.value("k", default: d.k, expected: "use a number greater than 0 and at most 100")
            windowMs = try r.value("windowMs", default: d.windowMs, expected: Ranges.milliseconds)
            buckets = try r.value("buckets", default: d.buckets, expected: "use an integer from 1 to 3600")
        }
    }

    /// Concurrency limiter settings.
    public struct Limiter: Sendable, Codable, Hashable {
        /// Permits held at once, 1...100,000. Default 64.
        public var limit: Int
        /// How long an acquire may wait, in ms, >= 0; nil: no limit. Default nil.
        public var acquireTimeoutMs: Double?

        /// Creates limiter settings; every argument has the default documented on its property.
        public init(limit: Int = 64, acquireTimeoutMs: Double? = nil) {
            self.limit = limit
            self.acquireTimeoutMs = acquireTimeoutMs
        }

        static let keys = ["limit", "acquireTimeoutMs"]

        public init(from decoder: any Decoder) throws {
            let r = try ConfigurationReader(decoder, keys: Self.keys)
            limit = try r.value("limit", default: 64, expected: "use an integer from 1 to 100000")
            acquireTimeoutMs = try r.optional("acquireTimeoutMs", Double.self, expected: "use a number of ms >= 0")
        }
    }

    enum Ranges {
        static let maxAttempts = "use an integer from 1 to 100"
        static let milliseconds = "use a number of milliseconds from 1 to 3600000"
        static let fraction = "use a fraction greater than 0 and at most 1"
    }
}
