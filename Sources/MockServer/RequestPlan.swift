/// What a request is subject to, fixed when it arrives.
struct RequestPlan {
    enum Admission {
        /// Start service now.
        case start
        /// Wait; the waiter given to `admit` is called when capacity frees.
        case queued
        /// Over capacity: answer 503.
        case rejected
    }

    var admission: Admission
    var seed: UInt64
    var arrival: UInt64
    var errorRate: Double
    var latency: LatencyModel
    var faults: MockServerConfiguration.FaultMix
    var spikeMs: Double
    var rateLimit: MockServerConfiguration.RateLimit
    /// `/429` only: whether the arrival-order limit is exceeded.
    var rateLimited: Bool
}

/// Starts a queued request's service on its own event loop.
struct CapacityWaiter: Sendable {
    let start: @Sendable () -> Void
}
