/// A statistic over repetitions with its interval. For a median (`Statistics.medianInterval`): a distribution-free
/// interval from order statistics whose coverage is in `coverage`, or, with fewer than
/// `Estimate.minimumForInterval` repetitions, the range of the runs (`rangeOf`). For a ratio of two groups' medians
/// (`Statistics.bootstrapRatio`): a 95% percentile-bootstrap interval, whose coverage is nominal (`coverage` is nil),
/// or the extreme ratios the runs allow.
public struct Estimate: Sendable, Hashable, Codable {
    /// Repetitions below which no interval is claimed: the range of the runs is given instead.
    public static let minimumForInterval = 5
    /// The median over repetitions.
    public var median: Double
    /// Lower bound of the interval.
    public var low: Double
    /// Upper bound of the interval.
    public var high: Double
    /// The per-repetition values, in repetition order.
    public var samples: [Double]
    /// Set when there were fewer than `minimumForInterval` repetitions: `low` and `high` are then the extremes of
    /// these n runs, not a confidence interval.
    public var rangeOf: Int?
    /// Set for an order-statistic interval of a median: the probability (0...1) that such an interval holds the
    /// true median, at least 0.95 from 6 repetitions on, 0.9375 for 5 (the range of the runs). Nil for a
    /// bootstrap interval, a range of too few runs, or no interval.
    public var coverage: Double?

    /// Creates an estimate from its parts.
    public init(
        median: Double, low: Double, high: Double, samples: [Double], rangeOf: Int? = nil, coverage: Double? = nil
    ) {
        self.median = median
        self.low = low
        self.high = high
        self.samples = samples
        self.rangeOf = rangeOf
        self.coverage = coverage
    }

    /// An estimate with no interval (a single value, or a figure that is not resampled).
    public static func exact(_ value: Double) -> Estimate {
        Estimate(median: value, low: value, high: value, samples: [value])
    }

    /// `center` with a 95% percentile-bootstrap interval: the 2.5% and 97.5% quantiles of `sortedDraws`, the
    /// statistic recomputed on each resample, in ascending order.
    public static func bootstrap(_ center: Double, sortedDraws: [Double]) -> Estimate {
        Estimate(
            median: center, low: Statistics.quantile(sorted: sortedDraws, 0.025),
            high: Statistics.quantile(sorted: sortedDraws, 0.975), samples: [center])
    }
}
