/// One scheduling-lag measurement.
public struct LagSample: Sendable, Hashable, Codable {
    /// When the late wake-up happened, ns since the monitor's origin.
    public var tNs: Int64
    /// How late the work ran, ns: past its sleep deadline (concurrency pool), or after it was scheduled
    /// (an executor).
    public var lagNs: Int64

    public init(tNs: Int64, lagNs: Int64) {
        self.tNs = tNs
        self.lagNs = lagNs
    }
}

/// A summary of a lag series.
public struct LagSummary: Sendable, Hashable, Codable {
    /// Measurements taken.
    public var count: Int
    /// The largest lag, ns (0 when empty).
    public var maxNs: Int64
    /// The mean lag, ns (0 when empty).
    public var meanNs: Double
    /// The 95th percentile (nearest rank) of the lags kept, ns (0 when empty).
    public var p95Ns: Int64

    public init(count: Int = 0, maxNs: Int64 = 0, meanNs: Double = 0, p95Ns: Int64 = 0) {
        self.count = count
        self.maxNs = maxNs
        self.meanNs = meanNs
        self.p95Ns = p95Ns
    }
}
