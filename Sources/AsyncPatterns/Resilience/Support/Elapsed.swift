/// Reads a clock as a duration since a fixed origin (the moment the owning pattern was created). State machines
/// take time as such a duration, so they stay independent of the clock type.
struct Elapsed<C: Clock>: Sendable where C.Duration == Duration {
    let clock: C
    let origin: C.Instant

    init(clock: C) {
        self.clock = clock
        self.origin = clock.now
    }

    /// The time since the origin.
    @inline(__always)
    func now() -> Duration {
        origin.duration(to: clock.now)
    }
}

extension Duration {
    /// This duration in whole nanoseconds (truncated toward zero), saturating at the bounds of `Int64`. Under 9.2 s
    /// its attoseconds fit in 64 bits, and dividing them by the constant is a multiplication; longer ones take one
    /// 128-bit division (`components` would take two).
    @inlinable @inline(__always)
    package var wholeNanoseconds: Int64 {
        let attoseconds = attoseconds
        if let small = Int64(exactly: attoseconds) { return small / 1_000_000_000 }
        return Int64(clamping: attoseconds / 1_000_000_000)
    }

    /// This duration in seconds, as a double.
    var secondsDouble: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }

    /// A duration of `nanoseconds` (fractions dropped), clamped to be at least zero and finite.
    static func clampedNanoseconds(_ nanoseconds: Double) -> Duration {
        guard nanoseconds > 0 else { return .zero }
        guard nanoseconds < 9.2e18 else { return .nanoseconds(Int64.max) }
        return .nanoseconds(Int64(nanoseconds))
    }

    /// A duration of `milliseconds`, which may be fractional.
    static func milliseconds(double milliseconds: Double) -> Duration {
        clampedNanoseconds((milliseconds * 1_000_000).rounded())
    }
}

/// Derives a 64-bit value from two, order-sensitively and without allocating (StableHash.combine is variadic).
@inline(__always)
func mixSeed(_ a: UInt64, _ b: UInt64) -> UInt64 {
    SplitMix64.mix(a ^ SplitMix64.mix(b &+ 0x9E37_79B9_7F4A_7C15))
}
