import LabStore

/// The page section and `wrk-ratios.csv` of an experiment with reference cells (engine `wrk`): wrk's throughput and
/// p99 at each (pooling, concurrency), and every engine's throughput as a share of wrk's at the same point, paired by
/// repetition. Reference cells have no samples, so they are kept out of every other table, chart and finding.
enum ReferenceRatios {
    /// The engine name of reference cells.
    static let engine = EngineName.wrk.rawValue
    /// The CSV file written beside the page.
    static let fileName = "wrk-ratios.csv"

    /// One row: one engine at one (pooling, concurrency) point.
    struct Row: Sendable {
        /// `pooled` or `naive`.
        var pooling: String
        /// Workers, and wrk's connections.
        var concurrency: Int
        /// The engine compared with wrk.
        var engine: String
        /// Repetitions with both an engine cell and a wrk cell.
        var pairs: Int
        /// Median over repetitions of engine throughput / wrk throughput (same repetition), with its interval.
        var ratio: Estimate
        /// wrk's requests per second over its repetitions, with its interval.
        var wrkThroughput: Estimate
        /// Median of wrk's p99 over its repetitions, ns.
        var wrkP99Ns: Double
        /// wrk's repetitions at this point.
        var wrkRepetitions: Int
    }

    /// The rows of `experiment`, points in (pooling, concurrency) order and engines in page order; empty without
    /// reference cells.
    static func rows(_ experiment: ExperimentModel) -> [Row] {
        let reference = experiment.referenceCells.filter { $0.reference != nil }
        guard !reference.isEmpty else { return [] }
        // A point is the cell's parameters without the engine and the repetition.
        func stripEngine(_ params: CellParameters) -> String {
            ModelBuilder.pointKey(params.removing(["engine"]), engine: "")
        }
        var wrkByPoint: [String: [CellRecord]] = [:]
        for cell in reference { wrkByPoint[stripEngine(cell.parameters), default: []].append(cell) }
        let points = wrkByPoint.keys.sorted { lhs, rhs in
            let l = wrkByPoint[lhs]![0]
            let r = wrkByPoint[rhs]![0]
            return (pooling(l), l.concurrency, lhs) < (pooling(r), r.concurrency, rhs)
        }
        var rows: [Row] = []
        for point in points {
            let wrkCells = wrkByPoint[point]!.sorted { ($0.repetition, $0.cellKey) < ($1.repetition, $1.cellKey) }
            let wrkRPS = wrkCells.map { $0.reference!.requestsPerSecond }
            let throughput = Statistics.medianInterval(wrkRPS)
            let p99 = Statistics.median(wrkCells.map { $0.reference!.p99Ns })
            var wrkByRepetition: [Int: Double] = [:]
            for cell in wrkCells { wrkByRepetition[cell.repetition] = cell.reference!.requestsPerSecond }
            var paired = false
            // The simulation's throughput is in virtual time: no ratio to wrk's.
            for engineName in experiment.engines where engineName != engine && engineName != EngineName.sim.rawValue {
                let engineCells = experiment.cells.joined().filter {
                    $0.cell.engine == engineName && stripEngine($0.params) == point
                }
                var ratios: [Double] = []
                for cell in engineCells.sorted(by: { $0.cell.repetition < $1.cell.repetition }) {
                    guard let wrk = wrkByRepetition[cell.cell.repetition], wrk > 0, cell.throughput.isFinite else {
                        continue
                    }
                    ratios.append(cell.throughput / wrk)
                }
                guard !ratios.isEmpty else { continue }
                paired = true
                rows.append(
                    Row(
                        pooling: pooling(wrkCells[0]), concurrency: wrkCells[0].concurrency, engine: engineName,
                        pairs: ratios.count,
                        ratio: Statistics.medianInterval(ratios),
                        wrkThroughput: throughput, wrkP99Ns: p99, wrkRepetitions: wrkCells.count))
            }
            if !paired {
                // No engine measured this point: wrk's figures still have a row.
                rows.append(
                    Row(
                        pooling: pooling(wrkCells[0]), concurrency: wrkCells[0].concurrency, engine: "",
                        pairs: 0, ratio: Estimate(median: .nan, low: .nan, high: .nan, samples: []),
                        wrkThroughput: throughput, wrkP99Ns: p99, wrkRepetitions: wrkCells.count))
            }
        }
        return rows
    }

    private static func pooling(_ cell: CellRecord) -> String {
        cell.parameters[.pooling]?.description ?? "pooled"
    }

    /// The page section, or "" without reference cells.
    static func section(_ experiment: ExperimentModel) -> String {
        let rows = rows(experiment)
        guard !rows.isEmpty else { return "" }
        let showPooling = experiment.varyingAxes.contains("pooling")
        var out = "## The reference: wrk at the same concurrency\n\n"
        var table: [[String]] = []
        for row in rows {
            table.append(
                (showPooling ? [Markdown.escape(row.pooling)] : []) + [
                    "\(row.concurrency)", Format.estimate(row.wrkThroughput, Format.rate), Format.ms(row.wrkP99Ns),
                    row.engine.isEmpty ? "–" : Markdown.escape(row.engine), "\(row.pairs)",
                    row.engine.isEmpty ? "n/a" : Format.estimate(row.ratio, Format.percent),
                ])
        }
        let header =
            (showPooling ? ["pooling"] : []) + [
                "concurrency", "wrk RPS [CI / range]", "wrk p99 ms", "engine", "pairs",
                "engine / wrk throughput [CI / range]",
            ]
        out += Markdown.table(header: header, alignRight: header.map { $0 != "pooling" && $0 != "engine" }, rows: table)
        out += "\nwrk (https://github.com/wg/wrk) ran closed loop with one thread and one connection per unit of "
        out += "concurrency, against the same mock server with the same settings and from the same CPUs as the "
        out += "engines, so its rate is what a lean C client gets here: a reference, not an upper bound (an engine "
        out += "can pass it, as a ratio above 100% shows). Engine / wrk: each engine's throughput divided by wrk's "
        out += "in the same repetition, median over repetitions with its interval from order statistics (as in "
        out += "Methods; with fewer than \(Estimate.minimumForInterval) pairs, the range of the pairs). wrk's p99 is "
        out +=
            "the median over its repetitions of the p99 wrk reported. The figures are in [\(fileName)](\(fileName)).\n\n"
        return out
    }

    /// `wrk-ratios.csv`: columns pooling, concurrency, engine, reps, ratio, ratio_low, ratio_high, wrk_rps; nil
    /// without reference cells.
    static func csv(_ experiment: ExperimentModel) -> String? {
        let rows = rows(experiment)
        guard !rows.isEmpty else { return nil }
        func number(_ value: Double) -> String { value.isFinite ? "\(value)" : "" }
        var out = "pooling,concurrency,engine,reps,ratio,ratio_low,ratio_high,wrk_rps\n"
        for row in rows {
            out +=
                [
                    DataRenderers.csvField(row.pooling), "\(row.concurrency)", DataRenderers.csvField(row.engine),
                    "\(row.pairs)", number(row.ratio.median), number(row.ratio.low), number(row.ratio.high),
                    number(row.wrkThroughput.median),
                ].joined(separator: ",") + "\n"
        }
        return out
    }
}
