import LabStore

/// The goodput-over-time chart of an experiment whose answer asks for `metastable-recovery`: whether goodput comes
/// back after the server's trigger phase.
extension ChartPlanner {
    /// Buckets averaged into one plotted value: 5 × 100 ms, a centred 500 ms moving average.
    static let goodputSmoothingBuckets = 5

    /// Goodput against time since the cell started, one line per treatment (its typical repetition, see
    /// `RecoveryRow.typical`), one panel per engine (the live engines, then the simulation), with the trigger phase
    /// marked; nil when the spec's answer does not list `metastable-recovery`, or no cell has samples.
    static func goodputChart(_ experiment: ExperimentModel) -> Chart? {
        guard experiment.spec.answer?.analyses.contains("metastable-recovery") ?? false else { return nil }
        let rows = Analyses.recoveryRows(experiment)
        var treatments: [String] = []
        for row in rows where !treatments.contains(row.treatment) { treatments.append(row.treatment) }
        var panels: [ChartPanel] = []
        var end = 0.0
        var top = 0.0
        var triggers: [String: (start: Double, end: Double)] = [:]
        for engine in experiment.engines {
            var series: [ChartSeries] = []
            for row in rows where row.point.engine == engine {
                guard let cell = row.typical ?? experiment.cells[row.index].first, cell.lastEndNs >= 0 else {
                    continue
                }
                if triggers[engine] == nil,
                    let trigger = CellStatistics.trigger(experiment.events[cell.cell.id] ?? [])
                {
                    triggers[engine] = (Double(trigger.startNs) / 1e9, Double(trigger.endNs) / 1e9)
                }
                let points = smoothedGoodput(cell)
                end = max(end, points.last?.x ?? 0)
                top = max(top, points.map(\.y).max() ?? 0)
                let variant = treatments.firstIndex(of: row.treatment) ?? 0
                series.append(
                    ChartSeries(
                        title: row.treatment + ", rep \(cell.cell.repetition)",
                        style: .lines, color: ChartPalette.colors[variant % ChartPalette.colors.count],
                        dash: 1 + variant % 5, points: points))
            }
            guard !series.isEmpty else { continue }
            panels.append(
                ChartPanel(
                    title: Analyses.engineWords(engine), xLabel: "time since the cell started (s)",
                    yLabel: "goodput (successful requests/s)", series: series))
        }
        guard !panels.isEmpty else { return nil }
        // The trigger as a bracket above the lines: up at its start, across its length, down at its end.
        let height = top > 0 ? top * 1.05 : 1
        for index in panels.indices {
            let engine = experiment.engines.first { Analyses.engineWords($0) == panels[index].title }
            if let engine, let trigger = triggers[engine] {
                panels[index].series.append(triggerBracket(trigger, from: 0, to: height))
            }
            panels[index].xRange = (0, max(end, 1e-3) * 1.02)
            panels[index].yRange = (0, height * 1.08)
            if index < panels.count - 1 { panels[index].xLabel = "" }
        }
        var caption = "Successful requests per second against time since the cell started, counted in 100 ms buckets "
        caption += "of their end time and smoothed with a centred 500 ms moving average: one line per treatment, "
        caption += "one panel per engine. Each line is the treatment's typical repetition: of those that had goodput "
        caption += "before the trigger and did what most did (recovered, stayed collapsed, or neither), the one with "
        caption += "the median recovery time, or else the median goodput over the last 2 s"
        caption += experiment.engines.contains(EngineName.sim.rawValue) ? " (the simulation's time is virtual)" : ""
        caption += ". The grey bracket marks the server's trigger phase (its start and end from the cell's schedule "
        caption += "events); a line that climbs back after it recovered, one that stays low stayed collapsed. "
        caption += "One run each, so no bars; the table \"Recovery after the trigger\" has every repetition."
        return Chart(
            name: "goodput", title: "\(experiment.name): goodput over time", heading: "Goodput over time",
            caption: caption, panels: panels, size: (960, 120 + 340 * panels.count), rows: panels.count)
    }

    /// The one categorical axis that stands for a metastable experiment's treatments.
    static let patternAxis = "treatment"

    /// A metastable experiment whose only varying axes are the pattern switches (backoff, budget, breaker,
    /// throttle) as a copy with one categorical axis, `treatment`, valued as the page's tables name the treatments
    /// ("no retries", "retries + breaker", ...) in their order, so that its treatment chart has one point per
    /// treatment and engine instead of series that join unrelated treatments, its points in that order; nil for any
    /// other experiment.
    static func byPattern(_ experiment: ExperimentModel) -> ExperimentModel? {
        guard experiment.spec.answer?.analyses.contains("metastable-recovery") ?? false else { return nil }
        let patterns = Set(Analyses.patternParameters.map(\.name.rawValue))
        guard experiment.varyingAxes.allSatisfy({ patterns.contains($0) || !isVarying($0, in: experiment) }) else {
            return nil
        }
        let labels = experiment.points.map { Analyses.patternLabel($0.params, in: experiment) }
        var ranks: [String: [Int]] = [:]
        for (point, label) in zip(experiment.points, labels) { ranks[label] = Analyses.patternOrder(point.params) }
        let ordered = ranks.keys.sorted {
            ranks[$0]! == ranks[$1]! ? $0 < $1 : ranks[$0]!.lexicographicallyPrecedes(ranks[$1]!)
        }
        var copy = experiment
        for index in copy.points.indices { copy.points[index].coordinates = [(patternAxis, .string(labels[index]))] }
        // Points in treatment order (stable, so each treatment's engines keep theirs), with their parallel arrays.
        let order = copy.points.indices.sorted {
            let (a, b) = (ordered.firstIndex(of: labels[$0])!, ordered.firstIndex(of: labels[$1])!)
            return a == b ? $0 < $1 : a < b
        }
        copy.points = order.map { copy.points[$0] }
        copy.histograms = order.map { copy.histograms[$0] }
        copy.cells = order.map { copy.cells[$0] }
        copy.varyingAxes = [patternAxis]
        copy.spec.axes = [(patternAxis, ordered.map { .string($0) })]
        copy.spec.answer?.compare = patternAxis
        copy.spec.answer?.baseline = nil
        return copy
    }

    /// The server's trigger phase (seconds since the cell started) as a grey bracket from `low` up to `high`: up at
    /// its start, across its length, down at its end; titled with its times.
    static func triggerBracket(_ trigger: (start: Double, end: Double), from low: Double, to high: Double)
        -> ChartSeries
    {
        ChartSeries(
            title: "trigger (\(Format.significant(trigger.start))–\(Format.significant(trigger.end)) s)",
            style: .steps, color: "#999999", dash: 1,
            points: [(trigger.start, low, low, low), (trigger.start, high, high, high), (trigger.end, low, low, low)])
    }

    /// A cell's goodput per bucket as requests/s, each the mean of the `goodputSmoothingBuckets` buckets centred on
    /// it (fewer at the ends), at the bucket's middle; up to the bucket of the cell's last end.
    static func smoothedGoodput(_ cell: CellStatistics) -> [(x: Double, y: Double, low: Double, high: Double)] {
        let buckets = cell.goodputBuckets
        let width = Double(CellStatistics.goodputBucketNs) / 1e9
        var count = buckets.count
        if cell.lastEndNs >= 0 {
            let last = Int(cell.lastEndNs / CellStatistics.goodputBucketNs) + 1
            count = max(count, min(CellStatistics.goodputBucketLimit, last))
        }
        let half = goodputSmoothingBuckets / 2
        var points: [(x: Double, y: Double, low: Double, high: Double)] = []
        points.reserveCapacity(count)
        for index in 0..<count {
            let range = max(0, index - half)..<min(count, index + half + 1)
            var total = 0.0
            for bucket in range where bucket < buckets.count { total += Double(buckets[bucket]) }
            let y = total / (Double(range.count) * width)
            points.append(((Double(index) + 0.5) * width, y, y, y))
        }
        return points
    }
}
