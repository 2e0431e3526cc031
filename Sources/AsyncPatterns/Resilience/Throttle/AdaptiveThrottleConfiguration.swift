/// Client-side adaptive throttling from the Google SRE book ("Handling Overload"): reject locally with
/// probability `max(0, (requests − K·accepts) / (requests + 1))`, both counted over a sliding window.
public struct AdaptiveThrottleConfiguration: Sendable, Hashable {
    /// The multiplier K: how many requests per accepted request are tolerated before rejecting. Default 2.
    public var k: Double
    /// The window requests and accepts are counted over. Default 60 s.
    public var window: Duration
    /// How many buckets the window is split into. Default 60.
    public var buckets: Int

    /// Creates a configuration; every argument has the default documented on its property.
    public init(k: Double = 2, window: Duration = .seconds(60), buckets: Int = 60) {
        precondition(k > 0, "K must be positive")
        precondition(buckets >= 1 && window.wholeNanoseconds >= Int64(buckets), "window too small")
        self.k = k
        self.window = window
        self.buckets = buckets
    }
}
