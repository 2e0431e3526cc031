/// Counts that a sliding window adds up: a small struct of integers with a zero and addition.
protocol WindowTally: Sendable {
    static var zero: Self { get }
    static func += (lhs: inout Self, rhs: Self)
    static func -= (lhs: inout Self, rhs: Self)
}

/// A time-based sliding window of `bucketCount` equal buckets covering `duration`. A count stays in the window
/// until its whole bucket has slid out, so the window holds between `duration - width` and `duration` of history.
/// Time is a duration since an origin; a time earlier than the newest bucket is added to the newest bucket.
struct TimeBucketWindow<Tally: WindowTally>: Sendable {
    let bucketWidthNs: Int64
    private(set) var buckets: [Tally]
    private var newestIndex: Int64 = 0
    private(set) var total: Tally = .zero

    init(duration: Duration, bucketCount: Int) {
        precondition(bucketCount >= 1, "a sliding window needs at least one bucket")
        let widthNs = duration.wholeNanoseconds / Int64(bucketCount)
        precondition(widthNs >= 1, "a sliding window's buckets must be at least 1 ns wide")
        self.bucketWidthNs = widthNs
        self.buckets = Array(repeating: .zero, count: bucketCount)
    }

    /// Drops the buckets that have slid out of the window by time `now`.
    mutating func advance(to now: Duration) {
        let index = now.wholeNanoseconds / bucketWidthNs
        guard index > newestIndex else { return }
        let steps = index - newestIndex
        let count = Int64(buckets.count)
        if steps >= count {
            for slot in buckets.indices { buckets[slot] = .zero }
            total = .zero
        } else {
            for step in 1...steps {
                let slot = Int((newestIndex + step) % count)
                total -= buckets[slot]
                buckets[slot] = .zero
            }
        }
        newestIndex = index
    }

    /// Adds `tally` at time `now`.
    mutating func add(_ tally: Tally, at now: Duration) {
        advance(to: now)
        buckets[Int(newestIndex % Int64(buckets.count))] += tally
        total += tally
    }

    /// The sum of the window at time `now`.
    mutating func total(at now: Duration) -> Tally {
        advance(to: now)
        return total
    }

    /// Empties the window.
    mutating func reset() {
        for slot in buckets.indices { buckets[slot] = .zero }
        total = .zero
    }
}
