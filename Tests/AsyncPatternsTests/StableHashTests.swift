import AsyncPatterns
import Testing

/// Seeds, fault decisions and cell seeds depend on these values: they must not change between versions, and the
/// fixed-arity `combine` overloads and `hash(decimal:)` must agree with the general forms.
@Suite("StableHash")
struct StableHashTests {
    /// Values computed by the first (variadic-only) implementation.
    @Test func combineKeepsItsValues() {
        let (a, b, c, d, e): (UInt64, UInt64, UInt64, UInt64, UInt64) = (1, 2, 3, 4, 5)
        #expect(StableHash.combine(a, b) == 0xD94B_0EB3_FC89_EE4C)
        #expect(StableHash.combine(a, b, c) == 0x22C8_3DC3_0271_9DC9)
        #expect(StableHash.combine(a, b, c, d) == 0xBFB3_8916_76C0_6C3C)
        #expect(StableHash.combine(a, b, c, d, e) == 0xCE2A_8265_B146_0996)
        #expect(StableHash.hash("12345") == 0x5820_A421_F9E0_AB69)
    }

    @Test(arguments: [
        Int64(0), 7, 10, 99, 12345, 1_000_000, 1_234_567_890_123_456, 12_345_678_901_234_567, Int64.max, -1, -42,
        Int64.min,
    ])
    func decimalHashIsTheHashOfTheText(value: Int64) {
        #expect(StableHash.hash(decimal: value) == StableHash.hash(String(value)))
        #expect(StableHash.hash(decimal: value, seed: 9) == StableHash.hash(String(value), seed: 9))
    }

    /// Runs of consecutive ids (crossing 9→10, 99→100, …), jumps back and forth, negatives and the bounds.
    @Test(arguments: [UInt64(0), 9])
    func theDecimalHasherHashesAsHashDecimal(seed: UInt64) {
        var values = Array(Int64(0)..<2_100)
        values += [5, 5, 123_456_789, 123_456_790, 7, -1, -10, -9, 0, Int64.max, Int64.max - 1, Int64.min, 12]
        var generator = SplitMix64(seed: 7)
        for _ in 0..<500 {
            values.append(Int64(bitPattern: generator.next() >> UInt64.random(in: 0..<64, using: &generator)))
        }
        values += Array(999_990..<1_000_020)
        var hasher = StableHash.DecimalHasher(seed: seed)
        for value in values {
            #expect(hasher.hash(value) == StableHash.hash(decimal: value, seed: seed), "value \(value)")
        }
        #expect(hasher.hash(12345) == StableHash.hash("12345", seed: seed))
    }

    @Test func extendingACombinationIsCombiningOneValueMore() {
        let (a, b, c, d): (UInt64, UInt64, UInt64, UInt64) = (1, 2, 3, 4)
        #expect(StableHash.extend(StableHash.combine(a, b, c), with: d) == StableHash.combine(a, b, c, d))
        #expect(StableHash.extend(StableHash.combine(a, b), with: c) == StableHash.combine(a, b, c))
        #expect(StableHash.extend(StableHash.combine(a, b), with: c) != StableHash.combine(a, c, b))
    }
}
