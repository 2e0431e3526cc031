/// Limits how many retries a client sends, so retries cannot multiply load on a failing server.
public enum RetryBudgetConfiguration: Sendable, Hashable {
    /// gRPC retry-throttling style token bucket: starts full at `maxTokens`; a retry needs and spends
    /// `costPerRetry`; every successful attempt refunds `refundPerSuccess` (up to `maxTokens`). Amounts are kept
    /// in thousandths of a token, as gRPC does, so 10 refunds of 0.1 make exactly 1 token.
    case tokenBucket(maxTokens: Double, costPerRetry: Double, refundPerSuccess: Double)
    /// Finagle/Envoy style: within the last `window`, retries may reach `ratio` × logical requests, and never fewer
    /// than `minRetriesPerSecond` × window seconds (the floor that lets a quiet client retry at all).
    case ratio(ratio: Double, window: Duration, minRetriesPerSecond: Double)
}
