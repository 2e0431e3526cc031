import LabStore

/// The "Simulation vs live" section of a page whose experiment ran the discrete-event simulation (engine `sim`)
/// beside live engines: for each of the question's metrics and each point both measured (the same parameters
/// apart from the engine), the simulated median against each live engine's median and interval, and whether the
/// live interval contains the simulated value. Points only the simulation measured are not compared.
enum SimulationComparison {
    /// The simulation's engine name.
    static let engine = EngineName.sim.rawValue

    /// One live engine's figure at a compared point.
    struct Live {
        /// The live engine.
        var engine: String
        /// Its estimate of the metric.
        var estimate: Estimate

        /// Whether the live interval (or range) contains `value`.
        func contains(_ value: Double) -> Bool {
            estimate.low <= value && value <= estimate.high
        }

        /// Whether `value` lies within `SimulationComparison.margin` of the live median, relative to it.
        func isNear(_ value: Double) -> Bool {
            estimate.median != 0 && abs(value - estimate.median) <= margin * abs(estimate.median)
        }

        /// Whether the live figure agrees with the simulated `value`: its interval contains it, or it is within the
        /// margin (an interval of near-identical runs can exclude a difference too small to matter).
        func agrees(_ value: Double) -> Bool { contains(value) || isNear(value) }
    }

    /// The equivalence margin: a simulated median within this share of the live median agrees with it even where
    /// the live interval is narrower still.
    static let margin = 0.05
    /// "5%".
    static var marginText: String { Format.fixed(margin * 100, 0) + "%" }

    /// One metric at one point measured by both the simulation and at least one live engine.
    struct Row {
        /// The metric compared.
        var metric: Metric
        /// The simulated point.
        var sim: PointSummary
        /// The simulation's estimate of the metric.
        var simEstimate: Estimate
        /// The live engines' estimates, in page engine order.
        var live: [Live]
    }

    /// The page's comparison rows, metrics in answer order and points in page order; empty without both sim and live
    /// points.
    static func rows(_ experiment: ExperimentModel) -> [Row] {
        let livePoints = experiment.points.filter { !$0.isSimulated }
        guard !livePoints.isEmpty else { return [] }
        var liveByPoint: [String: [PointSummary]] = [:]
        for point in livePoints { liveByPoint[key(point), default: []].append(point) }
        var rows: [Row] = []
        for metric in experiment.answer.metrics.compactMap(Metric.named) {
            for sim in experiment.points where sim.isSimulated {
                guard let simEstimate = sim.metrics[metric.id], simEstimate.median.isFinite else { continue }
                let live = (liveByPoint[key(sim)] ?? []).compactMap { point -> Live? in
                    guard let estimate = point.metrics[metric.id], estimate.median.isFinite else { return nil }
                    return Live(engine: point.engine, estimate: estimate)
                }
                guard !live.isEmpty else { continue }
                rows.append(Row(metric: metric, sim: sim, simEstimate: simEstimate, live: live))
            }
        }
        return rows
    }

    /// A point's parameters without its engine: the same for the simulated and the live run of one point.
    static func key(_ point: PointSummary) -> String {
        point.params.removing(["engine"]).canonicalJSON
    }

    /// Simulated points with no live point at the same parameters (the simulation's sweep beyond the live one).
    static func simOnly(_ experiment: ExperimentModel) -> [PointSummary] {
        let live = Set(experiment.points.filter { !$0.isSimulated }.map(key))
        return experiment.points.filter { $0.isSimulated && !live.contains(key($0)) }
    }

    /// "concurrency 50, backoff full": a point's varying coordinates.
    static func pointText(_ point: PointSummary, axes: [String]) -> String {
        axes.map { "\($0) \(point.coordinate($0)?.display ?? "")" }.joined(separator: ", ")
    }

    /// The gap of the simulated median from a live median: "+28, +53.8%" (for a percentage, in points: "−0.35
    /// points").
    static func gapText(_ row: Row, _ live: Live) -> String {
        let gap = row.simEstimate.median - live.estimate.median
        let sign = gap >= 0 ? "+" : "−"
        if row.metric.style == .percent { return sign + Format.significant(abs(gap) * 100) + " points" }
        var text = sign + row.metric.format(abs(gap))
        if live.estimate.median != 0 { text += ", " + sign + Format.percent(abs(gap / live.estimate.median)) }
        return text
    }

    /// A table cell: "yes" when the live interval contains the simulated median, "no, within 5%" when it is near,
    /// else "no (gap)".
    static func agreementText(_ row: Row, _ live: Live) -> String {
        let value = row.simEstimate.median
        if live.contains(value) { return "yes" }
        if live.isNear(value) { return "no, within \(marginText)" }
        return "no (\(gapText(row, live)))"
    }

    /// The findings sentence: how many comparisons agree, and each disagreement with its gap; nil without rows.
    /// `brief`: the page's findings list, which names the largest gap only and points to the section.
    static func finding(_ experiment: ExperimentModel, brief: Bool = false) -> String? {
        let rows = rows(experiment)
        guard !rows.isEmpty else { return nil }
        let axes = experiment.varyingAxes
        let comparisons = rows.flatMap { row in row.live.map { (row, $0) } }
        let contained = comparisons.filter { $0.1.contains($0.0.simEstimate.median) }.count
        var disagreeing = comparisons.filter { !$0.1.agrees($0.0.simEstimate.median) }
        let near = comparisons.count - contained - disagreeing.count
        var sentence = "**Simulation vs live**: in \(contained) of \(comparisons.count) "
        sentence += "comparisons the live interval contains the simulated median"
        if near > 0 {
            sentence += ", and in \(near) more the simulated median is within \(marginText) of the live "
            sentence += "one though outside its interval"
        }
        if disagreeing.isEmpty { return sentence + "." }
        func relativeGap(_ item: (Row, Live)) -> Double {
            let live = item.1.estimate.median
            return live == 0 ? .infinity : abs(item.0.simEstimate.median - live) / abs(live)
        }
        if brief {
            sentence +=
                "; of the \(disagreeing.count) that differ by more (see Simulation vs live), the largest gap is "
            disagreeing = [disagreeing.max { relativeGap($0) < relativeGap($1) }!]
        } else {
            sentence += "; they differ by more for "
        }
        sentence +=
            disagreeing.map { row, live in
                var text = Markdown.escape("\(row.metric.label) at \(pointText(row.sim, axes: axes))") + " (sim "
                text += "\(row.metric.format(row.simEstimate.median)) against \(Markdown.escape(live.engine)) "
                text += "\(Format.estimate(live.estimate, row.metric.format)): \(gapText(row, live)))"
                return text
            }.joined(separator: "; ")
        return sentence + "."
    }

    /// The page section, or "" when the experiment lacks sim or live points at the same parameters.
    static func section(_ experiment: ExperimentModel) -> String {
        let rows = rows(experiment)
        guard !rows.isEmpty else { return "" }
        let axes = experiment.varyingAxes
        let liveEngines = experiment.engines.filter { engine in
            rows.contains { $0.live.contains { $0.engine == engine } }
        }
        var out = "## Simulation vs live\n\n"
        out += "The discrete-event simulation (engine `sim`) ran the same cells as the live engines: the same "
        out += "parameters and the same server seed, so the fault decisions are the same per (request id, attempt). "
        out += "Its times are virtual. Per point measured both ways, each of the question's metrics: the simulated "
        out += "median over repetitions with its interval (or range), each live engine's, and whether the live "
        out += "interval contains the simulated median: yes; no, but within \(marginText) of the live "
        out += "median (an equivalence margin, for intervals of near-identical runs); or no, with the gap.\n\n"
        var table: [[String]] = []
        for row in rows {
            var cells = [Markdown.escape(row.metric.header)]
            cells += axes.map { Markdown.escape(row.sim.coordinate($0)?.display ?? "") }
            cells.append(Format.estimate(row.simEstimate, row.metric.format))
            for engine in liveEngines {
                if let live = row.live.first(where: { $0.engine == engine }) {
                    cells.append(Format.estimate(live.estimate, row.metric.format))
                    cells.append(agreementText(row, live))
                } else {
                    cells += ["n/a", "n/a"]
                }
            }
            table.append(cells)
        }
        let header =
            ["metric"] + axes.map(Markdown.escape) + ["sim [CI / range]"]
            + liveEngines.flatMap {
                ["\(Markdown.escape($0)) [CI / range]", "\(Markdown.escape($0)) contains sim"]
            }
        // Figures right, words left: a numeric axis and the estimates right; the metric, a named treatment
        // (metastable's "retries + breaker") and the yes/no columns left.
        let numericAxes = axes.map { axis in rows.allSatisfy { $0.sim.coordinate(axis)?.numberValue != nil } }
        let alignRight =
            [false] + numericAxes + [true] + liveEngines.flatMap { _ in [true, false] }
        out += Markdown.table(header: header, alignRight: alignRight, rows: table)
        if let finding = finding(experiment) { out += "\n" + finding + "\n" }
        if rows.contains(where: { row in row.live.contains { !$0.agrees(row.simEstimate.median) } }) {
            out += "\nWhere they disagree, a possible cause is what the model leaves out and the live run carries: "
            out += "the network and the client's own time per request (the simulation adds only the round trip its "
            out += "spec sets, often none), connection set-up, kernel time, and scheduling delay (the live machine "
            out += "spreads out clients that the model runs in exact lock-step).\n"
        }
        if rows.contains(where: { $0.live.contains { $0.estimate.rangeOf != nil } }) {
            out += "\nWith fewer than \(Estimate.minimumForInterval) repetitions a live figure is the range of its "
            out += "runs, not a confidence interval: a range of two or three runs is narrow, so a \"no\" there is weak "
            out += "evidence of a difference.\n"
        }
        let only = simOnly(experiment)
        if !only.isEmpty {
            let liveConcurrencies = Set(experiment.points.filter { !$0.isSimulated }.map(\.concurrency))
            let beyond = Set(only.map(\.concurrency)).subtracting(liveConcurrencies).sorted()
            let which =
                beyond.isEmpty
                ? "for example " + Markdown.escape(pointText(only[only.count - 1], axes: axes))
                : "the simulated sweep at concurrency " + beyond.map(String.init).joined(separator: ", ")
            out += "\n\(only.count) simulated point\(only.count == 1 ? " has" : "s have") no live counterpart "
            out += "(\(which)) and \(only.count == 1 ? "is" : "are") not compared.\n"
        }
        return out + "\n"
    }
}

extension PointSummary {
    /// Whether the point is the discrete-event simulation's (engine `sim`): virtual times, no CPU, memory, process or
    /// speed-probe figures, no wrk reference.
    var isSimulated: Bool { engine == EngineName.sim.rawValue }
}
