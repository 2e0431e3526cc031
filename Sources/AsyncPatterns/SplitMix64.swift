/// A small, fast, seedable random number generator (Steele, Lea and Flood's SplitMix64).
///
/// Every random choice in the lab comes from one of these, seeded from the master seed, so that a run
/// can be repeated exactly. Never use `SystemRandomNumberGenerator` in pattern or engine code.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        self.state = seed
    }

    /// Returns the next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// The SplitMix64 finaliser: a bijective 64-bit mix with good avalanche, usable as a stateless hash step.
    @inlinable
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Maps 64 random bits to a double uniformly distributed in [0, 1).
    @inlinable
    public static func unitInterval(_ bits: UInt64) -> Double {
        Double(bits >> 11) * 0x1.0p-53
    }
}

/// Deterministic 64-bit hashing of strings and integers, stable across processes and platforms
/// (unlike `Hasher`, which is randomly seeded per process).
public enum StableHash {
    /// FNV-1a over the UTF-8 bytes, finished with the SplitMix64 mix.
    public static func hash(_ text: String, seed: UInt64 = 0) -> UInt64 {
        var h = fnvBasis ^ seed
        for byte in text.utf8 { h = fnvStep(h, byte) }
        return SplitMix64.mix(h)
    }

    /// `hash(String(value))` without building the string: FNV-1a over the decimal digits (and a leading `-`).
    public static func hash(decimal value: Int64, seed: UInt64 = 0) -> UInt64 {
        var h: UInt64 = fnvBasis ^ seed
        if value < 0 { h = fnvStep(h, UInt8(ascii: "-")) }
        return SplitMix64.mix(fnvDigits(of: value.magnitude, onto: h))
    }

    /// `hash(decimal:)` for a run of mostly consecutive values, such as request ids handed out in order: it keeps
    /// the FNV-1a state of the last value's digits but its last one, so a value that shares them (nine in ten of
    /// consecutive ones) costs one FNV step and the mix instead of all its digits.
    public struct DecimalHasher: Sendable {
        private let seed: UInt64
        /// `value / 10` of the last non-negative value hashed, or -1 before the first.
        private var prefix: Int64 = -1
        /// The FNV-1a state after `prefix`'s digits (none for a prefix of 0: a one-digit value has no prefix).
        private var prefixState: UInt64 = 0

        /// A hasher equal to `hash(decimal:seed:)` with `seed`.
        public init(seed: UInt64 = 0) {
            self.seed = seed
        }

        /// `StableHash.hash(decimal: value, seed: seed)`.
        @inline(__always)
        public mutating func hash(_ value: Int64) -> UInt64 {
            guard value >= 0 else { return StableHash.hash(decimal: value, seed: seed) }
            let (head, digit) = value.quotientAndRemainder(dividingBy: 10)
            if head != prefix {
                prefix = head
                prefixState = head == 0 ? fnvBasis ^ seed : fnvDigits(of: UInt64(head), onto: fnvBasis ^ seed)
            }
            return SplitMix64.mix(fnvStep(prefixState, UInt8(ascii: "0") + UInt8(digit)))
        }
    }

    private static let fnvBasis: UInt64 = 0xCBF2_9CE4_8422_2325

    @inline(__always)
    private static func fnvStep(_ h: UInt64, _ byte: UInt8) -> UInt64 {
        (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }

    /// FNV-1a over `magnitude`'s decimal digits, from state `h`. The digits come out least significant first (a
    /// division by the constant 10 is a multiplication), 4 bits each in two words, and are hashed most significant
    /// first.
    private static func fnvDigits(of magnitude: UInt64, onto h: UInt64) -> UInt64 {
        var h = h
        var magnitude = magnitude
        // At most 20 digits (UInt64.max): 16 in `low`, the rest in `high`.
        var low: UInt64 = 0
        var high: UInt64 = 0
        var count: UInt64 = 0
        repeat {
            let (quotient, digit) = magnitude.quotientAndRemainder(dividingBy: 10)
            if count < 16 { low |= digit << (4 * count) } else { high |= digit << (4 * (count - 16)) }
            count += 1
            magnitude = quotient
        } while magnitude > 0
        while count > 0 {
            count -= 1
            let digit = count < 16 ? (low >> (4 * count)) & 0xF : (high >> (4 * (count - 16))) & 0xF
            h = fnvStep(h, UInt8(ascii: "0") + UInt8(digit))
        }
        return h
    }

    /// Combines several 64-bit values into one, order-sensitively.
    public static func combine(_ values: UInt64...) -> UInt64 {
        var h = combineSeed
        for value in values { h = step(h, value) }
        return h
    }

    /// `combine` of two values, without the variadic call's array (the hot paths call it per request).
    public static func combine(_ a: UInt64, _ b: UInt64) -> UInt64 {
        step(step(combineSeed, a), b)
    }

    /// `combine` of three values, without the variadic call's array.
    public static func combine(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        step(step(step(combineSeed, a), b), c)
    }

    /// `combine` of four values, without the variadic call's array.
    public static func combine(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) -> UInt64 {
        step(step(step(step(combineSeed, a), b), c), d)
    }

    /// `combine(a, …, value)` from `combined = combine(a, …)`: the chain goes on by one value, so draws that share a
    /// prefix (an attempt's fault, latency and `Retry-After`) hash it once.
    @inline(__always)
    public static func extend(_ combined: UInt64, with value: UInt64) -> UInt64 {
        step(combined, value)
    }

    private static let combineSeed: UInt64 = 0x6A09_E667_F3BC_C908

    @inline(__always)
    private static func step(_ h: UInt64, _ value: UInt64) -> UInt64 {
        SplitMix64.mix(h ^ SplitMix64.mix(value &+ 0x9E37_79B9_7F4A_7C15))
    }
}
