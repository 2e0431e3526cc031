import LabStore

/// Everything the renderers need about one experiment.
public struct ExperimentModel: Sendable {
    /// The experiment's name as stored.
    public var name: String
    /// A file-system-safe folder name derived from `name`, unique within the report.
    public var slug: String
    /// The newest run's spec.
    public var spec: ReportSpec
    /// The newest run of this experiment (its provenance is shown).
    public var run: RunRecord
    /// The runs that contributed complete cells, oldest first.
    public var runIDs: [Int64]
    /// Engines in display order.
    public var engines: [String]
    /// Axes whose value varies between points (engine excluded), in spec order.
    public var varyingAxes: [String]
    /// The aggregated points, in display order.
    public var points: [PointSummary]
    /// Complete cells.
    public var cellCount: Int
    /// Samples read, warm-up included.
    public var sampleCount: Int
    /// Per point (same order as `points`): pooled logical latency histograms.
    var histograms: [LatencyHistogram]
    /// Per point: the cell statistics of each repetition, in repetition order.
    var cells: [[CellStatistics]]
    /// Events of the cells that have any, by cell id.
    var events: [Int64: [EventRecord]]
    /// Complete reference cells (engine `wrk`): no samples, so in no point; `ReferenceRatios` reads them.
    var referenceCells: [CellRecord] = []
}

extension ExperimentModel {
    /// The spec's `answer`, or for a spec without one: throughput and p99 latency, comparing engines (or, with one
    /// engine, the first varying axis other than concurrency) along concurrency when it varies.
    var answer: ReportAnswer {
        if let answer = spec.answer { return answer }
        let others = varyingAxes.filter { $0 != "concurrency" }
        let concurrencyVaries = Set(points.map(\.concurrency)).count > 1
        let compare = engines.count > 1 || others.isEmpty ? "engine" : others[0]
        return ReportAnswer(
            metrics: ["throughput", "p99_ms"], compare: compare, by: concurrencyVaries ? "concurrency" : nil,
            baseline: nil, analyses: [])
    }
}

/// The whole report's data.
public struct ReportModel: Sendable {
    /// Experiments in name order.
    public var experiments: [ExperimentModel]
    /// All runs in the database, oldest first.
    public var runs: [RunRecord]
    /// Samples read in total.
    public var sampleCount: Int
}
