import LabStore

/// Latency percentiles of a point, from the HdrHistogram of all its repetitions pooled. Nanoseconds.
public struct LatencyPercentiles: Sendable, Hashable, Codable {
    /// Median, ns.
    public var p50: Double
    /// 90th percentile, ns.
    public var p90: Double
    /// 99th percentile, ns.
    public var p99: Double
    /// 99.9th percentile, ns.
    public var p999: Double
    /// Largest recorded value, ns.
    public var max: Double
    /// Mean, ns.
    public var mean: Double
}

/// A comparison of a point against a baseline: the ratio of medians, its interval and a rank test.
public struct Comparison: Sendable, Hashable, Codable {
    /// Ratio of the medians with a 95% percentile-bootstrap interval (nominal level, not a guaranteed coverage).
    public var ratio: Estimate
    /// Two-sided Mann-Whitney U p-value of the repetitions.
    public var pValue: Double
    /// Whether p < 0.05 and the ratio's interval excludes 1× (never when the two contradict); when false the
    /// report marks the difference with "~", as benchstat does.
    public var significant: Bool
    /// Repetitions on each side.
    public var counts: [Int]
    /// The baseline point's concurrency.
    public var baselineConcurrency: Int
    /// The baseline's median throughput, requests/s.
    public var baselineThroughput: Double

    /// A comparison whose significance follows from `ratio` and `pValue`.
    public init(ratio: Estimate, pValue: Double, counts: [Int], baselineConcurrency: Int, baselineThroughput: Double) {
        self.ratio = ratio
        self.pValue = pValue
        self.significant = pValue < 0.05 && (ratio.low > 1 || ratio.high < 1)
        self.counts = counts
        self.baselineConcurrency = baselineConcurrency
        self.baselineThroughput = baselineThroughput
    }
}

/// One point of an experiment's grid for one engine, aggregated over its repetitions.
public struct PointSummary: Sendable {
    /// The engine.
    public var engine: String
    /// Workers (closed loop) or the in-flight cap (open loop).
    public var concurrency: Int
    /// The values of the experiment's varying axes at this point, in axis order.
    public var coordinates: [(name: String, value: JSONValue)]
    /// Every parameter of the point (the cell's parameters without the repetition).
    public var params: CellParameters
    /// The stable keys of the cells measured here, sorted.
    public var cellKeys: [String]
    /// Completed repetitions.
    public var repetitions: Int
    /// Final requests per second.
    public var throughput: Estimate
    /// Successful final requests per second.
    public var goodput: Estimate
    /// Logical-request latency, coordinated-omission corrected, all repetitions pooled.
    public var latency: LatencyPercentiles
    /// Logical-request latency from the first attempt's actual send (not corrected for coordinated omission).
    public var uncorrectedLatency: LatencyPercentiles
    /// Per-attempt latency, all repetitions pooled.
    public var attemptLatency: LatencyPercentiles
    /// Median over repetitions of 1 − successes / finals.
    public var errorRate: Double
    /// Median over repetitions of sent attempts per logical request.
    public var attemptsPerRequest: Double
    /// Median over repetitions of server requests per logical request; nil without server figures.
    public var amplification: Double?
    /// Median over repetitions of requests the server counted; nil without server figures.
    public var serverRequests: Double?
    /// Throughput over the Little's-law bound; nil without a service time.
    public var efficiency: Estimate?
    /// Median mean service time, ns; nil when unknown.
    public var serviceMeanNs: Double?
    /// Median client CPU seconds (user + sys); nil when not recorded.
    public var cpuSeconds: Double?
    /// Median client peak RSS, bytes; nil when not recorded.
    public var peakRSSBytes: Double?
    /// Median measured span, seconds.
    public var spanSeconds: Double
    /// Median logical requests measured per repetition.
    public var requests: Double
    /// Final outcomes by error class, summed over repetitions, sorted by label.
    public var finalClasses: [(label: String, count: Int)]
    /// Throughput against the sync engine at the same settings; nil for sync itself or without a baseline.
    public var speedup: Comparison?
    /// Every catalogue metric (`Metric.catalogue`) that all repetitions could give, by id: the median with its
    /// interval from order statistics (`Statistics.medianInterval`), or the range with fewer than
    /// `Estimate.minimumForInterval` repetitions.
    public var metrics: [String: Estimate] = [:]

    /// Whether the point ran an open loop (arrivals on a schedule), where corrected and uncorrected latency differ.
    public var isOpenLoop: Bool { Self.isOpenLoop(params) }

    /// Whether cell parameters describe an open loop: a `load` other than `closed`, or a rate above 0.
    static func isOpenLoop(_ params: CellParameters) -> Bool {
        (params[.load]?.string.map { $0 != "closed" } ?? false) || (params[.rate]?.number ?? 0) > 0
    }

    /// The value of the named coordinate, or nil.
    public func coordinate(_ name: String) -> JSONValue? {
        coordinates.first { $0.name == name }?.value
    }

    /// The value of the named coordinate, else of the parameter stored under that name, or nil.
    func value(_ name: String) -> JSONValue? {
        coordinate(name) ?? params[key: name].map(JSONValue.init)
    }
}
