/// How long to wait before a retry. Strategies are pure: all randomness comes from the generator passed in.
///
/// The AWS definitions ("Exponential Backoff And Jitter", Marc Brooker), with `n` the zero-based retry index
/// (n = 0 before the second attempt) and `t = min(cap, base·2^n)`:
/// - `.immediate` ("none"): 0;
/// - `.exponential`: t;
/// - `.fullJitter`: random(0, t);
/// - `.equalJitter`: t/2 + random(0, t/2);
/// - `.decorrelatedJitter`: min(cap, random(base, previous·3)), with previous = base before the first retry.
///
/// A strategy is a protocol with static factories (STYLE.md) rather than a closed enum, so an experiment can add
/// its own strategy without touching the retry policy; the configuration's `backoff` string maps onto these.
public protocol BackoffStrategy: Sendable {
    /// The label used in configurations and reports, e.g. "full".
    var name: String { get }
    /// Whether `delay` depends on `previous` (then the policy replays the chain of earlier delays).
    var usesPreviousDelay: Bool { get }
    /// The delay before zero-based retry `retry`, given the delay before the previous retry (nil for the first).
    func delay(retry: Int, previous: Duration?, using generator: inout SplitMix64) -> Duration
}

extension BackoffStrategy {
    /// False: most strategies ignore the previous delay.
    public var usesPreviousDelay: Bool { false }
}

/// `min(cap, base·2^n)` in nanoseconds, as a double (never overflows).
@inline(__always)
func exponentialCeilingNs(base: Duration, cap: Duration, retry: Int) -> Double {
    let exponent = Double(min(max(retry, 0), 1000))
    let grown = Double(base.wholeNanoseconds) * (exponent < 1000 ? pow2(exponent) : .infinity)
    return min(Double(cap.wholeNanoseconds), grown)
}

@inline(__always)
private func pow2(_ exponent: Double) -> Double {
    // exponent is a small non-negative integer; 2^1023 is the largest finite power.
    exponent > 1023 ? .infinity : Double(sign: .plus, exponent: Int(exponent), significand: 1)
}

/// A uniform double in [0, 1) from the generator.
@inline(__always)
func unitRandom(_ generator: inout SplitMix64) -> Double {
    SplitMix64.unitInterval(generator.next())
}

/// No delay: retry at once ("none").
public struct ImmediateBackoff: BackoffStrategy {
    /// Creates the strategy.
    public init() {}
    public var name: String { "none" }
    public func delay(retry: Int, previous: Duration?, using generator: inout SplitMix64) -> Duration { .zero }
}

/// `min(cap, base·2^n)`, no jitter ("exponential").
public struct ExponentialBackoff: BackoffStrategy {
    /// The delay before the first retry.
    public var base: Duration
    /// The largest delay.
    public var cap: Duration
    /// Creates the strategy; `base` and `cap` need 0 <= base <= cap (a programmer error otherwise).
    public init(base: Duration, cap: Duration) {
        precondition(base >= .zero && cap >= base, "exponential backoff needs 0 <= base <= cap")
        self.base = base
        self.cap = cap
    }
    public var name: String { "exponential" }
    public func delay(retry: Int, previous: Duration?, using generator: inout SplitMix64) -> Duration {
        .clampedNanoseconds(exponentialCeilingNs(base: base, cap: cap, retry: retry))
    }
}

/// `random(0, min(cap, base·2^n))` ("full").
public struct FullJitterBackoff: BackoffStrategy {
    /// The scale of the first retry's delay.
    public var base: Duration
    /// The largest delay.
    public var cap: Duration
    /// Creates the strategy; `base` and `cap` need 0 <= base <= cap (a programmer error otherwise).
    public init(base: Duration, cap: Duration) {
        precondition(base >= .zero && cap >= base, "full-jitter backoff needs 0 <= base <= cap")
        self.base = base
        self.cap = cap
    }
    public var name: String { "full" }
    public func delay(retry: Int, previous: Duration?, using generator: inout SplitMix64) -> Duration {
        let ceiling = exponentialCeilingNs(base: base, cap: cap, retry: retry)
        return .clampedNanoseconds(unitRandom(&generator) * ceiling)
    }
}

/// `t/2 + random(0, t/2)` with `t = min(cap, base·2^n)` ("equal").
public struct EqualJitterBackoff: BackoffStrategy {
    /// The scale of the first retry's delay.
    public var base: Duration
    /// The largest delay.
    public var cap: Duration
    /// Creates the strategy; `base` and `cap` need 0 <= base <= cap (a programmer error otherwise).
    public init(base: Duration, cap: Duration) {
        precondition(base >= .zero && cap >= base, "equal-jitter backoff needs 0 <= base <= cap")
        self.base = base
        self.cap = cap
    }
    public var name: String { "equal" }
    public func delay(retry: Int, previous: Duration?, using generator: inout SplitMix64) -> Duration {
        let half = exponentialCeilingNs(base: base, cap: cap, retry: retry) / 2
        return .clampedNanoseconds(half + unitRandom(&generator) * half)
    }
}

/// `min(cap, random(base, previous·3))`, previous starting at base ("decorrelated").
public struct DecorrelatedJitterBackoff: BackoffStrategy {
    /// The smallest delay, and the previous delay assumed before the first retry.
    public var base: Duration
    /// The largest delay.
    public var cap: Duration
    /// Creates the strategy; `base` and `cap` need 0 <= base <= cap (a programmer error otherwise).
    public init(base: Duration, cap: Duration) {
        precondition(base >= .zero && cap >= base, "decorrelated-jitter backoff needs 0 <= base <= cap")
        self.base = base
        self.cap = cap
    }
    public var name: String { "decorrelated" }
    public var usesPreviousDelay: Bool { true }
    public func delay(retry: Int, previous: Duration?, using generator: inout SplitMix64) -> Duration {
        let low = Double(base.wholeNanoseconds)
        let high = Double((previous ?? base).wholeNanoseconds) * 3
        let drawn = low + unitRandom(&generator) * (high - low)
        return .clampedNanoseconds(min(Double(cap.wholeNanoseconds), drawn))
    }
}

extension BackoffStrategy where Self == ImmediateBackoff {
    /// No delay between attempts ("none").
    public static var immediate: ImmediateBackoff { ImmediateBackoff() }
}

extension BackoffStrategy where Self == ExponentialBackoff {
    /// `min(cap, base·2^n)` ("exponential").
    public static func exponential(base: Duration, cap: Duration) -> ExponentialBackoff {
        ExponentialBackoff(base: base, cap: cap)
    }
}

extension BackoffStrategy where Self == FullJitterBackoff {
    /// `random(0, min(cap, base·2^n))` ("full").
    public static func fullJitter(base: Duration, cap: Duration) -> FullJitterBackoff {
        FullJitterBackoff(base: base, cap: cap)
    }
}

extension BackoffStrategy where Self == EqualJitterBackoff {
    /// `t/2 + random(0, t/2)`, `t = min(cap, base·2^n)` ("equal").
    public static func equalJitter(base: Duration, cap: Duration) -> EqualJitterBackoff {
        EqualJitterBackoff(base: base, cap: cap)
    }
}

extension BackoffStrategy where Self == DecorrelatedJitterBackoff {
    /// `min(cap, random(base, previous·3))` ("decorrelated").
    public static func decorrelatedJitter(base: Duration, cap: Duration) -> DecorrelatedJitterBackoff {
        DecorrelatedJitterBackoff(base: base, cap: cap)
    }
}
