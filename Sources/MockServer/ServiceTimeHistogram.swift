/// A log-linear histogram of durations in nanoseconds: exact below 128 ns, then 128 buckets per power of two
/// (at most 0.8% relative error: ±20 µs at 5 ms). Fixed size (about 58 KiB), no allocation per sample.
struct ServiceTimeHistogram: Sendable {
    private static let subBucketBits = 7
    private static let subBuckets = 1 << subBucketBits
    private static let linearLimit: UInt64 = UInt64(subBuckets)
    private static let bucketCount = subBuckets + (63 - subBucketBits + 1) * subBuckets

    private var buckets: [UInt64]
    private(set) var count: UInt64 = 0
    private(set) var sum: UInt64 = 0
    private(set) var max: UInt64 = 0

    init() {
        buckets = Array(repeating: 0, count: Self.bucketCount)
    }

    static func index(of value: UInt64) -> Int {
        if value < linearLimit { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount
        let sub = Int((value >> UInt64(exponent - subBucketBits)) & UInt64(subBuckets - 1))
        return subBuckets + (exponent - subBucketBits) * subBuckets + sub
    }

    /// The smallest and largest value that fall into bucket `index`.
    static func bounds(of index: Int) -> (lower: UInt64, upper: UInt64) {
        if index < Int(linearLimit) { return (UInt64(index), UInt64(index)) }
        let exponent = (index - subBuckets) / subBuckets + subBucketBits
        let sub = UInt64((index - subBuckets) % subBuckets)
        let shift = UInt64(exponent - subBucketBits)
        let lower = (UInt64(subBuckets) + sub) << shift
        return (lower, lower + ((1 << shift) - 1))
    }

    mutating func record(_ nanoseconds: UInt64) {
        buckets[Self.index(of: nanoseconds)] &+= 1
        count &+= 1
        sum &+= nanoseconds
        if nanoseconds > max { max = nanoseconds }
    }

    /// The value at quantile `q` (0...1): the midpoint of its bucket, never above the maximum seen; 0 when empty.
    func quantile(_ q: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let rank = Swift.max(1, UInt64((q * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for (index, n) in buckets.enumerated() where n > 0 {
            seen += n
            if seen >= rank {
                let (lower, upper) = Self.bounds(of: index)
                return Swift.min(lower + (upper - lower) / 2, max)
            }
        }
        return max
    }

    var mean: Double { count == 0 ? 0 : Double(sum) / Double(count) }
}
