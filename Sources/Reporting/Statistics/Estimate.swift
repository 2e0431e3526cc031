/// A statistic over repetitions: the median with a 95% bootstrap confidence interval.
public struct Estimate: Sendable, Hashable, Codable {
    /// The median over repetitions.
    public var median: Double
    /// Lower bound of the 95% confidence interval.
    public var low: Double
    /// Upper bound of the 95% confidence interval.
    public var high: Double
    /// The per-repetition values, in repetition order.
    public var samples: [Double]

    /// Creates an estimate from its parts.
    public init(median: Double, low: Double, high: Double, samples: [Double]) {
        self.median = median
        self.low = low
        self.high = high
        self.samples = samples
    }

    /// An estimate with no interval (a single value, or a figure that is not resampled).
    public static func exact(_ value: Double) -> Estimate {
        Estimate(median: value, low: value, high: value, samples: [value])
    }
}
