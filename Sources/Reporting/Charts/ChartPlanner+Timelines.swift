import Histogram
import LabStore

/// Charts drawn from pooled histograms and from events over time: the latency spectrum, the breaker timeline and
/// the sample pipeline.
extension ChartPlanner {
    /// The concurrencies at which the spectrum compares engines: the highest that every engine ran, the highest
    /// that most engines ran, and the highest that at least two ran; with one engine, its highest.
    static func spectrumConcurrencies(_ experiment: ExperimentModel) -> [Int] {
        var engines: [Int: Set<String>] = [:]
        for point in experiment.points { engines[point.concurrency, default: []].insert(point.engine) }
        let all = Set(experiment.points.map(\.engine))
        let levels = engines.keys.sorted()
        guard let top = levels.last else { return [] }
        if all.count <= 1 { return [top] }
        var chosen: [Int] = []
        if let shared = levels.last(where: { engines[$0]!.count == all.count }) { chosen.append(shared) }
        let compared = levels.filter { engines[$0]!.count >= 2 && !chosen.contains($0) }
        if let most = compared.max(by: { (engines[$0]!.count, $0) < (engines[$1]!.count, $1) }) { chosen.append(most) }
        if let highest = compared.last { chosen.append(highest) }
        if chosen.isEmpty { chosen.append(top) }
        return Array(Set(chosen)).sorted()
    }

    /// HDR-style percentile spectrum: latency (log scale) against 1/(1 − percentile), engines compared at the same
    /// concurrency, one panel per chosen concurrency.
    static func spectrumChart(_ experiment: ExperimentModel) -> Chart {
        let percentiles: [Double] = [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.995, 99.999, 100]
        let constant = constantAxes(experiment)
        var panels: [ChartPanel] = []
        var maxCount: UInt64 = 0
        var omitted: Set<String> = []
        var heldNotes: [String] = []
        var drawn: [PointSummary] = []
        let levels = spectrumConcurrencies(experiment)
        for level in levels {
            var indices = experiment.points.indices.filter { experiment.points[$0].concurrency == level }
            omitted.formUnion(Set(experiment.engines).subtracting(indices.map { experiment.points[$0].engine }))
            // Too many series: leave the simulation out beside live engines (its latencies are virtual), then hold
            // numeric axes at their highest value (the heaviest setting: most errors, most load), then the other
            // axes at their first value in the spec's order, until they fit.
            var held: [String] = []
            let live = indices.filter { !experiment.points[$0].isSimulated }
            if indices.count > maximumSeries, !live.isEmpty, live.count < indices.count {
                indices = live
                held.append("live engines")
            }
            let holdable = experiment.varyingAxes.filter {
                $0 != ParameterName.concurrency.rawValue && !constant.contains($0)
            }
            let numeric = holdable.filter { categoryIndex(experiment, axis: $0) == nil }
            for axis in numeric + holdable.filter({ !numeric.contains($0) }) {
                guard indices.count > maximumSeries else { break }
                let categories = categoryIndex(experiment, axis: axis)
                let rank = { (index: Int) in xValue(experiment.points[index], axis: axis, categories: categories) }
                let pick = categories == nil ? indices.max { rank($0) < rank($1) } : indices.min { rank($0) < rank($1) }
                guard let value = pick.flatMap({ experiment.points[$0].coordinate(axis) }) else { continue }
                indices = indices.filter { experiment.points[$0].coordinate(axis) == value }
                held.append(label(axis, value))
            }
            // In the engines' order, then the spec's order of the other axes' values.
            let axes = experiment.varyingAxes.filter { $0 != ParameterName.concurrency.rawValue }
            var orders: [String: [String: Int]] = [:]
            for axis in axes { orders[axis] = categoryIndex(experiment, axis: axis) }
            indices.sort {
                pointRank(experiment.points[$0], engines: experiment.engines, axes: axes, orders)
                    .lexicographicallyPrecedes(
                        pointRank(experiment.points[$1], engines: experiment.engines, axes: axes, orders))
            }
            indices = Array(indices.prefix(maximumSeries))
            var groups: [Group] = []
            var lines: [[(x: Double, y: Double, low: Double, high: Double)]] = []
            for index in indices {
                let histogram = experiment.histograms[index]
                guard histogram.totalCount > 0 else { continue }
                maxCount = max(maxCount, histogram.totalCount)
                drawn.append(experiment.points[index])
                var points: [(x: Double, y: Double, low: Double, high: Double)] = []
                // Beyond 1 − 1/n the histogram has no more resolution: stop there and add the maximum.
                let limit = 100 * (1 - 1 / Double(histogram.totalCount))
                let shown = percentiles.filter { $0 < limit }
                for (p, value) in zip(shown, histogram.values(atPercentiles: shown)) where value > 0 {
                    let y = Double(value) / 1e6
                    points.append((1 / (1 - p / 100), y, y, y))
                }
                let maximum = Double(histogram.maxRecorded) / 1e6
                if maximum > 0 { points.append((1 / (1 - limit / 100), maximum, maximum, maximum)) }
                let point = experiment.points[index]
                let others = point.coordinates.filter {
                    $0.name != ParameterName.concurrency.rawValue && !constant.contains($0.name)
                        && !held.contains(label($0.name, $0.value))
                }
                let title = ([point.engine] + others.map { label($0.name, $0.value) }).joined(separator: ", ")
                let variant = groups.filter { $0.engine == point.engine }.count
                groups.append(
                    Group(
                        title: title, engine: point.engine,
                        engineIndex: experiment.engines.firstIndex(of: point.engine) ?? 0, variant: variant,
                        keys: [("engine", point.engine)] + others.map { ($0.name, $0.value.display) }, points: [point]))
                lines.append(points)
            }
            let series = zip(styled(groups), lines).map { group, points in
                ChartSeries(
                    title: group.title, style: .linesPoints, color: group.color, dash: group.dash,
                    pointType: group.pointType, points: points)
            }
            if !held.isEmpty { heldNotes.append("the panel at c=\(level) shows only \(held.joined(separator: ", "))") }
            panels.append(
                ChartPanel(
                    title: (["c=\(level)"] + held).joined(separator: ", "),
                    xLabel: "percentile (log scale of 1/(1 - p); rightmost point is the maximum)",
                    yLabel: "latency (ms, log scale)", logX: true, logY: true, series: series))
        }
        // Ticks up to the resolution of the largest histogram (its maximum sits at x = count).
        // No tick at 0% (x = 1): it would run into 50%; the leftmost point is the minimum.
        let candidates: [(value: Double, label: String)] = [
            (2, "50%"), (10, "90%"), (100, "99%"), (1e3, "99.9%"), (1e4, "99.99%"), (1e5, "99.999%"),
        ]
        let tics = candidates.filter { $0.value <= Swift.max(10, Double(maxCount)) }
        let highest = panels.flatMap { $0.series.flatMap { $0.points.map(\.x) } }.max() ?? 10
        // One latency scale for every panel, so concurrencies compare by eye as well as engines.
        let latencies = panels.flatMap { $0.series.flatMap { $0.points.map(\.y) } }.filter { $0 > 0 && $0.isFinite }
        for index in panels.indices {
            panels[index].xTics = tics
            panels[index].xRange = (0.8, Swift.max(highest, 10) * 1.25)
            if let low = latencies.min(), let high = latencies.max() {
                panels[index].yRange = (low / 1.15, high * 1.15)
                panels[index].yTics = GnuplotScript.logTics(low: low / 1.15, high: high * 1.15)
            }
        }
        if panels.isEmpty {
            panels.append(ChartPanel(xLabel: "percentile", yLabel: "latency (ms)", logX: true, xTics: tics, series: []))
        }
        var caption =
            "Latency by percentile (coordinated-omission corrected, all repetitions pooled), "
            + (experiment.engines.count > 1 ? "engines" : "settings") + " compared at the "
            + "same concurrency: one panel per concurrency (\(levels.map { "c=\($0)" }.joined(separator: ", "))). "
            + "Both axes are logarithmic; the leftmost point of each line is the minimum."
        if !heldNotes.isEmpty { caption += " To keep each panel legible, " + heldNotes.joined(separator: "; ") + "." }
        caption += unsentNote(drawn)
        if !omitted.isEmpty, panels.count == 1 {
            caption += " Not shown (they never ran at that concurrency): \(omitted.sorted().joined(separator: ", "))."
        }
        return Chart(
            name: "latency-spectrum",
            title: "\(experiment.name): latency percentile spectrum"
                + (panels.count == 1 && !panels[0].title.isEmpty ? " at \(panels[0].title)" : ""),
            heading: "Latency percentile spectrum", caption: caption, panels: panels,
            size: (panels.count > 1 ? Swift.min(2400, 640 * panels.count) : 960, 600))
    }

    /// The spectrum caption's sentence on requests the client rejected without sending them (an open breaker, the
    /// throttle, a limiter wait), "" when they are under 1% of the drawn ones: their latency is the time it took to
    /// reject them, so the low percentiles of such a line are rejections, not fast responses.
    static func unsentNote(_ points: [PointSummary]) -> String {
        let counts = points.flatMap(\.finalClasses)
        let total = counts.reduce(0) { $0 + $1.count }
        let rejections = Set(CellStatistics.localRejections.map(\.rawValue))
        let unsent = counts.filter { rejections.contains($0.label) }
        let share = Double(unsent.reduce(0) { $0 + $1.count }) / Double(Swift.max(1, total))
        guard share >= 0.01 else { return "" }
        let labels = Set(unsent.filter { $0.count > 0 }.map(\.label)).sorted()
        return " \(Format.percent(share)) of the drawn requests were rejected by the client without being sent "
            + "(\(labels.joined(separator: ", "))): each counts with the time it took to reject it, so the low "
            + "percentiles of their lines are rejections, not fast responses."
    }

    /// Breaker state over time above the injected error rate, on one shared time axis, per engine at its typical
    /// cell: of the cells with transitions, one with the median count (the upper one of two); the server's trigger
    /// phase, when its schedule has one, as a bracket over the states.
    static func breakerChart(_ experiment: ExperimentModel) -> Chart? {
        var series: [ChartSeries] = []
        var injected: [ChartSeries] = []
        var trigger: (start: Double, end: Double)?
        var end = 0.0
        for (engineIndex, engine) in experiment.engines.enumerated() {
            var candidates: [(cell: CellStatistics, point: PointSummary, events: [EventRecord])] = []
            for (pointIndex, point) in experiment.points.enumerated() where point.engine == engine {
                for cell in experiment.cells[pointIndex] {
                    let transitions = (experiment.events[cell.cell.id] ?? []).filter { $0.kind == .breakerTransition }
                    if !transitions.isEmpty { candidates.append((cell, point, transitions)) }
                }
            }
            // Stable: among equal counts, the first in point and repetition order.
            let ranked = candidates.enumerated().sorted {
                ($0.element.events.count, $0.offset) < ($1.element.events.count, $1.offset)
            }
            guard !ranked.isEmpty else { continue }
            let best = ranked[ranked.count / 2].element
            let cellEnd = Double(max(best.cell.cell.elapsedNs, best.cell.lastEndNs)) / 1e9
            if trigger == nil, let phase = CellStatistics.trigger(experiment.events[best.cell.cell.id] ?? []) {
                trigger = (Double(phase.startNs) / 1e9, Double(phase.endNs) / 1e9)
            }
            end = max(end, cellEnd)
            var points: [(x: Double, y: Double, low: Double, high: Double)] = [(0, 0, 0, 0)]
            for event in best.events {
                let state = breakerLevel(event)
                points.append((Double(event.tNs) / 1e9, state, state, state))
            }
            if let last = points.last, cellEnd > last.x { points.append((cellEnd, last.y, last.y, last.y)) }
            let constant = constantAxes(experiment)
            let others = best.point.coordinates.filter { !constant.contains($0.name) }.map { label($0.name, $0.value) }
            series.append(
                ChartSeries(
                    title: ([engine] + others + ["rep \(best.cell.cell.repetition)"]).joined(separator: ", "),
                    style: .steps, color: ChartPalette.color(engine: engine, index: engineIndex),
                    dash: 1 + series.count % 5, points: points))
            let rates = (experiment.events[best.cell.cell.id] ?? []).filter {
                $0.kind == .injectedErrorRate && $0.value != nil
            }.sorted { $0.tNs < $1.tNs }
            if !rates.isEmpty {
                var steps = [(x: 0.0, y: rates[0].value!, low: rates[0].value!, high: rates[0].value!)]
                steps += rates.map { (Double($0.tNs) / 1e9, $0.value!, $0.value!, $0.value!) }
                if let last = steps.last, cellEnd > last.x { steps.append((cellEnd, last.y, last.y, last.y)) }
                injected.append(
                    ChartSeries(
                        title: "\(engine)'s cell", style: .steps,
                        color: ChartPalette.color(engine: engine, index: engineIndex), dash: 1 + injected.count % 5,
                        points: steps))
            }
        }
        guard !series.isEmpty else { return nil }
        // The server's schedule is usually the same in every cell: draw it once then. A live cell's phases sit on its
        // client's clock (the server's schedule started a little earlier), so they are compared in time as well.
        func steps(_ series: ChartSeries) -> [[Double]] { series.points.map { [$0.x, $0.y] } }
        if let first = injected.first, injected.allSatisfy({ steps($0) == steps(first) }) {
            injected = [
                ChartSeries(title: "injected by the server", style: .steps, color: "#666666", points: first.points)
            ]
        }
        // A rate that never changed would be a flat line: it is named in the caption instead.
        var constantRate: Double?
        if let rate = injected.first?.points.first?.y,
            injected.allSatisfy({ $0.points.allSatisfy { $0.y == rate } })
        {
            constantRate = rate
            injected = []
        }
        let range = (low: 0.0, high: end > 0 ? end * 1.02 : 1)
        if let trigger { series.append(triggerBracket(trigger, from: -0.2, to: 2.25)) }
        var panels = [
            ChartPanel(
                title: "breaker state", xLabel: injected.isEmpty ? "time since the cell started (s)" : "",
                yLabel: "circuit breaker state", yTics: [(0, "closed"), (1, "half-open"), (2, "open")],
                yRange: (-0.2, 2.4), xRange: range, series: series)
        ]
        if !injected.isEmpty {
            panels.append(
                ChartPanel(
                    title: "injected error rate", xLabel: "time since the cell started (s)",
                    yLabel: "injected error rate (fraction)", yRange: (-0.05, 1.05), xRange: range, series: injected))
        }
        return Chart(
            name: "breaker", title: "\(experiment.name): circuit breaker state over time", heading: "Breaker timeline",
            caption: "Circuit-breaker state over time, for each engine's typical cell: of its cells with transitions, "
                + "one with the median count"
                + (injected.isEmpty
                    ? " (one run each, no bars)."
                    : ", above the error rate the server injected, on the same time axis (one run each, no bars).")
                + (constantRate.map {
                    " The server's injected error rate was \(Format.percent($0)) throughout, so it is not drawn."
                } ?? "")
                + (trigger == nil
                    ? ""
                    : " The grey bracket marks the server's trigger phase (its start and end from the first drawn "
                        + "cell's schedule events)."),
            panels: panels, size: (960, panels.count > 1 ? 820 : 560), rows: panels.count)
    }

    /// Settings of the sample-recording pipeline; an experiment that sets or sweeps one studies the pipeline.
    static let pipelineSettings: [ParameterName] = [.recorderPolicy, .recorderCapacity, .recorderBatch, .writerDelayMs]

    /// Whether the experiment studies the sample pipeline: its spec sets or sweeps a pipeline setting, or some
    /// cell dropped samples. Every cell records queue-depth and memory events, so their presence says nothing.
    static func hasPipelineData(_ experiment: ExperimentModel) -> Bool {
        let named = experiment.spec.axes.map(\.name) + experiment.spec.fixed.map(\.name) + experiment.varyingAxes
        if named.contains(where: pipelineSettings.map(\.rawValue).contains) { return true }
        return experiment.events.values.contains { events in events.contains { $0.kind == .pipelineDropped } }
    }

    /// Queue depth, memory and scheduling lag over time, per engine at its highest concurrency (repetition 0), for
    /// an experiment that studies the sample pipeline (`hasPipelineData`).
    static func pipelineChart(_ experiment: ExperimentModel) -> Chart? {
        guard hasPipelineData(experiment) else { return nil }
        let kinds: [(kind: EventKind, title: String, label: String, scale: Double)] = [
            (.queueDepth, "queue depth", "queue depth (items)", 1),
            (.rssBytes, "memory", "resident memory (MiB)", 1_048_576),
            (.lagNs, "scheduling lag, concurrency pool", "scheduling lag (ms)", 1e6),
            (.nioLagNs, "scheduling lag, NIO event loop", "scheduling lag (ms)", 1e6),
        ]
        var panels: [ChartPanel] = []
        for kind in kinds {
            var series: [ChartSeries] = []
            for (engineIndex, engine) in experiment.engines.enumerated() {
                let indices = experiment.points.indices.filter { experiment.points[$0].engine == engine }
                guard let top = indices.map({ experiment.points[$0].concurrency }).max() else { continue }
                // With a recorder-policy axis every policy is shown; otherwise the engine's first top point.
                let atTop = indices.filter { experiment.points[$0].concurrency == top }
                let shown = experiment.varies(.recorderPolicy) ? atTop : Array(atTop.prefix(1))
                for (variant, index) in shown.enumerated() {
                    guard let cell = experiment.cells[index].first else { continue }
                    let events = (experiment.events[cell.cell.id] ?? []).filter {
                        $0.kind == kind.kind && $0.value != nil
                    }
                    guard !events.isEmpty else { continue }
                    let constant = constantAxes(experiment)
                    let others = experiment.points[index].coordinates.filter { !constant.contains($0.name) }
                        .map { label($0.name, $0.value) }
                    series.append(
                        ChartSeries(
                            title: ([engine] + others).joined(separator: ", "), style: .lines,
                            color: variant == 0
                                ? ChartPalette.color(engine: engine, index: engineIndex)
                                : ChartPalette.colors[(engineIndex + variant) % ChartPalette.colors.count],
                            dash: variant % 5 + 1,
                            points: events.map {
                                let y = $0.value! / kind.scale
                                return (Double($0.tNs) / 1e9, y, y, y)
                            }))
                }
            }
            if !series.isEmpty {
                panels.append(
                    ChartPanel(
                        title: kind.title, xLabel: "time since the cell started (s)", yLabel: kind.label, series: series
                    ))
            }
        }
        guard !panels.isEmpty else { return nil }
        // Stacked on one time axis, so a reader can line a queue build-up up with a lag spike.
        let end = panels.flatMap { $0.series.flatMap { $0.points.map(\.x) } }.filter(\.isFinite).max() ?? 1
        for index in panels.indices {
            panels[index].xRange = (0, Swift.max(end, 1e-3) * 1.02)
            if index < panels.count - 1 { panels[index].xLabel = "" }
        }
        return Chart(
            name: "pipeline", title: "\(experiment.name): pipeline depth and memory over time",
            heading: "Pipeline depth and memory over time",
            caption: "Sample-pipeline queue depth, client resident memory and scheduling lag (of the Swift concurrency "
                + "pool and, where the engine runs one, of the NIO event loop) over one cell per engine"
                + (experiment.varies(.recorderPolicy) ? " and recorder policy" : "")
                + " (highest concurrency, repetition 0), stacked on one time axis. One run each, so no bars.",
            panels: panels, size: (960, 120 + 300 * panels.count), rows: panels.count)
    }
}
