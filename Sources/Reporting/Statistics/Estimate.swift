/// A statistic over repetitions: the median with a 95% bootstrap confidence interval, or, with fewer than
/// `Estimate.minimumForInterval` repetitions, the range of the runs (a bootstrap of 2–4 values is only their range
/// under another name).
public struct Estimate: Sendable, Hashable, Codable {
    /// Repetitions below which no interval is claimed: the range of the runs is given instead.
    public static let minimumForInterval = 5
    /// The median over repetitions.
    public var median: Double
    /// Lower bound of the 95% confidence interval.
    public var low: Double
    /// Upper bound of the 95% confidence interval.
    public var high: Double
    /// The per-repetition values, in repetition order.
    public var samples: [Double]
    /// Set when there were fewer than `minimumForInterval` repetitions: `low` and `high` are then the extremes of
    /// these n runs, not a confidence interval.
    public var rangeOf: Int?

    /// Creates an estimate from its parts.
    public init(median: Double, low: Double, high: Double, samples: [Double], rangeOf: Int? = nil) {
        self.median = median
        self.low = low
        self.high = high
        self.samples = samples
        self.rangeOf = rangeOf
    }

    /// An estimate with no interval (a single value, or a figure that is not resampled).
    public static func exact(_ value: Double) -> Estimate {
        Estimate(median: value, low: value, high: value, samples: [value])
    }
}
