import Histogram
import LabStore

/// Chooses the charts an experiment gets from the axes it sweeps and the events it recorded.
enum ChartPlanner {
    /// Axis names the planner recognises, with the spellings specs use.
    static let rateAxes = ["rate", "offeredRate", "arrivalRate"]
    static let errorRateAxes = ["errorRate", "error_rate", "failureRate"]
    static let budgetAxes = ["budget", "retryBudget", "retry_budget"]
    static let backoffAxes = ["backoff", "jitter", "backoffStrategy"]

    /// The charts of `experiment`, in page order.
    static func charts(for experiment: ExperimentModel) -> [Chart] {
        var charts: [Chart] = [throughputChart(experiment), spectrumChart(experiment)]
        if let axis = firstVarying(rateAxes, in: experiment) {
            charts.append(latencyVsRateChart(experiment, axis: axis))
        }
        if let axis = firstVarying(errorRateAxes, in: experiment) {
            charts.append(errorRateChart(experiment, axis: axis))
        }
        if let axis = firstVarying(budgetAxes, in: experiment) { charts.append(budgetChart(experiment, axis: axis)) }
        if let axis = firstVarying(backoffAxes, in: experiment) { charts.append(backoffChart(experiment, axis: axis)) }
        if let chart = breakerChart(experiment) { charts.append(chart) }
        if let chart = pipelineChart(experiment) { charts.append(chart) }
        if sweepsConcurrency(experiment), experiment.points.contains(where: { $0.peakRSSBytes != nil }) {
            charts.append(resourcesChart(experiment))
        }
        return charts
    }

    /// Whether positive numeric tics span at least a factor of ten, so a log axis keeps them legible.
    static func spansDecades(_ tics: [(value: Double, label: String)]) -> Bool {
        let values = tics.map(\.value)
        guard let low = values.min(), let high = values.max(), low > 0 else { return false }
        return high >= 10 * low
    }

    /// Whether the spec sweeps concurrency. The sync engine alone running at concurrency 1 beside others at a
    /// fixed concurrency does not count: a chart against concurrency would then hold one point per series.
    static func sweepsConcurrency(_ experiment: ExperimentModel) -> Bool {
        experiment.spec.axes.contains { $0.name == "concurrency" }
            && Set(experiment.points.map(\.concurrency)).count > 1
    }

    static func firstVarying(_ names: [String], in experiment: ExperimentModel) -> String? {
        names.first { experiment.varyingAxes.contains($0) }
    }

    // MARK: Series grouping

    struct Group {
        var title: String
        var engine: String
        var engineIndex: Int
        var variant: Int
        var points: [PointSummary]

        var color: String { ChartPalette.color(engine: engine, index: engineIndex) }
        var pointType: Int { ChartPalette.pointType(engine: engine, index: engineIndex) }
        var dash: Int { 1 + variant % 5 }
    }

    /// Series of points sharing the engine and every coordinate other than `xAxis` (and `alsoIgnore`).
    static func groups(
        _ experiment: ExperimentModel, xAxis: String, alsoIgnore: Set<String> = [],
        include: (PointSummary) -> Bool = { _ in true }
    ) -> [Group] {
        var order: [String] = []
        var grouped: [String: [PointSummary]] = [:]
        var meta: [String: (title: String, engine: String, variant: Int)] = [:]
        var variantCount: [String: Int] = [:]
        let constant = constantAxes(experiment)
        for point in experiment.points where include(point) {
            let others = point.coordinates.filter {
                $0.name != xAxis && !alsoIgnore.contains($0.name) && !constant.contains($0.name)
            }
            let otherText = others.map { label($0.name, $0.value) }.joined(separator: ", ")
            let key = point.engine + "\u{1}" + otherText
            if grouped[key] == nil {
                order.append(key)
                let variant = variantCount[point.engine, default: 0]
                variantCount[point.engine] = variant + 1
                meta[key] = (otherText.isEmpty ? point.engine : "\(point.engine), \(otherText)", point.engine, variant)
            }
            grouped[key, default: []].append(point)
        }
        let categories = categoryIndex(experiment, axis: xAxis)
        return order.map { key in
            let info = meta[key]!
            let points = grouped[key]!.sorted {
                xValue($0, axis: xAxis, categories: categories) < xValue($1, axis: xAxis, categories: categories)
            }
            return Group(
                title: info.title, engine: info.engine,
                engineIndex: experiment.engines.firstIndex(of: info.engine) ?? 0, variant: info.variant, points: points)
        }
    }

    /// Axes with one value across the whole experiment (left out of legend entries).
    static func constantAxes(_ experiment: ExperimentModel) -> Set<String> {
        var constant: Set<String> = []
        for axis in experiment.varyingAxes
        where Set(experiment.points.map { $0.coordinate(axis)?.canonical ?? "" }).count <= 1 {
            constant.insert(axis)
        }
        return constant
    }

    /// An axis label with its unit, for the axes whose units are known.
    static func axisLabel(_ axis: String) -> String {
        switch axis {
        case "concurrency": return "concurrency (requests in flight)"
        case "errorRate", "error_rate", "failureRate": return "injected error rate, \(axis) (fraction of attempts)"
        case "rate", "offeredRate", "arrivalRate": return "offered load, \(axis) (requests/s)"
        case "latencyMs": return "server latency, latencyMs (ms)"
        case "budget", "retryBudget", "retry_budget": return "retry budget, \(axis)"
        case "backoff", "jitter", "backoffStrategy": return "backoff strategy, \(axis)"
        default: return axis
        }
    }

    static func label(_ name: String, _ value: JSONValue) -> String {
        name == "concurrency" ? "c=\(value.display)" : "\(name)=\(value.display)"
    }

    /// For a non-numeric axis: each value's position, in the spec's order (else sorted).
    static func categoryIndex(_ experiment: ExperimentModel, axis: String) -> [String: Int]? {
        let values = experiment.points.compactMap { $0.coordinate(axis) }
        guard values.contains(where: { $0.numberValue == nil }) else { return nil }
        var ordered: [JSONValue] = experiment.spec.axes.first { $0.name == axis }?.values ?? []
        for value in values.sorted(by: JSONValue.precedes) where !ordered.contains(value) { ordered.append(value) }
        ordered = ordered.filter { values.contains($0) }
        return Dictionary(uniqueKeysWithValues: ordered.enumerated().map { ($1.canonical, $0) })
    }

    static func categoryTics(_ categories: [String: Int], _ experiment: ExperimentModel, axis: String)
        -> [(value: Double, label: String)]
    {
        var labels: [Int: String] = [:]
        for point in experiment.points {
            if let value = point.coordinate(axis), let index = categories[value.canonical] {
                labels[index] = value.display
            }
        }
        return labels.keys.sorted().map { (Double($0), labels[$0]!) }
    }

    static func xValue(_ point: PointSummary, axis: String, categories: [String: Int]? = nil) -> Double {
        if axis == "concurrency" { return Double(point.concurrency) }
        guard let value = point.coordinate(axis) else { return .nan }
        if let categories { return Double(categories[value.canonical] ?? -1) }
        return value.numberValue ?? .nan
    }

    static func numericTics(_ values: [Double]) -> [(value: Double, label: String)] {
        Array(Set(values.filter(\.isFinite))).sorted().map { ($0, JSONValue.formatNumber($0)) }
    }

    /// An x axis for `axis`: numeric ticks at the swept values, or categories.
    static func xAxis(_ experiment: ExperimentModel, axis: String) -> (
        tics: [(value: Double, label: String)], categories: [String: Int]?
    ) {
        if let categories = categoryIndex(experiment, axis: axis) {
            return (categoryTics(categories, experiment, axis: axis), categories)
        }
        return (numericTics(experiment.points.map { xValue($0, axis: axis) }), nil)
    }

    // MARK: Charts

    /// Throughput with CI bars against concurrency (log x) when it varies, else against the first varying axis,
    /// else per engine.
    static func throughputChart(_ experiment: ExperimentModel) -> Chart {
        let concurrencies = Array(Set(experiment.points.map(\.concurrency))).sorted()
        let axis =
            sweepsConcurrency(experiment)
                || concurrencies.count > 1
                    && !experiment.varyingAxes.contains { $0 != "concurrency" }
            ? "concurrency" : experiment.varyingAxes.first { $0 != "concurrency" }
        func estimateSeries(_ groups: [Group], x: (PointSummary) -> Double) -> [ChartSeries] {
            groups.map { group in
                ChartSeries(
                    title: group.title, style: .errorLines, color: group.color, dash: group.dash,
                    pointType: group.pointType,
                    points: group.points.map { (x($0), $0.throughput.median, $0.throughput.low, $0.throughput.high) })
            }
        }
        let panel: ChartPanel
        let caption: String
        if axis == "concurrency" {
            panel = ChartPanel(
                xLabel: "concurrency (requests in flight, log scale)", yLabel: "throughput (requests/s)",
                logX: (concurrencies.first ?? 0) > 0, xTics: concurrencies.map { (Double($0), String($0)) },
                series: estimateSeries(groups(experiment, xAxis: "concurrency")) { Double($0.concurrency) })
            caption = "Throughput against concurrency per engine"
        } else if let axis {
            let (tics, categories) = xAxis(experiment, axis: axis)
            let logX = categories == nil && spansDecades(tics)
            panel = ChartPanel(
                xLabel: axisLabel(axis) + (logX ? " (log scale)" : ""), yLabel: "throughput (requests/s)",
                logX: logX, xTics: tics,
                series: estimateSeries(groups(experiment, xAxis: axis)) {
                    xValue($0, axis: axis, categories: categories)
                })
            caption = "Throughput against \(axis) per engine"
        } else {
            let engines = experiment.engines
            let tics = engines.enumerated().map { (Double($0.offset), $0.element) }
            let series = groups(experiment, xAxis: "concurrency").map { group in
                ChartSeries(
                    title: group.title, style: .errorLines, color: group.color, pointType: group.pointType,
                    points: group.points.map {
                        (Double(group.engineIndex), $0.throughput.median, $0.throughput.low, $0.throughput.high)
                    })
            }
            panel = ChartPanel(xLabel: "engine", yLabel: "throughput (requests/s)", xTics: tics, series: series)
            caption = "Throughput per engine"
        }
        return Chart(
            name: "throughput",
            title: "\(experiment.name): throughput vs \(axis ?? "engine")",
            heading: "Throughput vs \(axis ?? "engine")",
            caption: caption
                + ": median over repetitions, bars are 95% bootstrap confidence intervals (the range of the runs "
                + "where there were fewer than \(Estimate.minimumForInterval)).",
            panels: [panel])
    }

    /// HDR-style percentile spectrum: latency against 1/(1 − percentile), per engine at its highest concurrency.
    static func spectrumChart(_ experiment: ExperimentModel) -> Chart {
        let percentiles: [Double] = [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.995, 99.999, 100]
        var series: [ChartSeries] = []
        var maxCount: UInt64 = 0
        for (engineIndex, engine) in experiment.engines.enumerated() {
            let indices = experiment.points.indices.filter { experiment.points[$0].engine == engine }
            guard let top = indices.map({ experiment.points[$0].concurrency }).max(),
                let index = indices.first(where: { experiment.points[$0].concurrency == top })
            else { continue }
            let histogram = experiment.histograms[index]
            guard histogram.totalCount > 0 else { continue }
            maxCount = max(maxCount, histogram.totalCount)
            var points: [(x: Double, y: Double, low: Double, high: Double)] = []
            // Beyond 1 − 1/n the histogram has no more resolution: stop there and add the maximum.
            let limit = 100 * (1 - 1 / Double(histogram.totalCount))
            let shown = percentiles.filter { $0 < limit }
            for (p, value) in zip(shown, histogram.values(atPercentiles: shown)) {
                let y = Double(value) / 1e6
                points.append((1 / (1 - p / 100), y, y, y))
            }
            let maximum = Double(histogram.maxRecorded) / 1e6
            points.append((1 / (1 - limit / 100), maximum, maximum, maximum))
            let point = experiment.points[index]
            let constant = constantAxes(experiment)
            let others = point.coordinates.filter { $0.name != "concurrency" && !constant.contains($0.name) }
                .map { label($0.name, $0.value) }
            series.append(
                ChartSeries(
                    title: ([engine, "c=\(top)"] + others).joined(separator: ", "), style: .linesPoints,
                    color: ChartPalette.color(engine: engine, index: engineIndex),
                    pointType: ChartPalette.pointType(engine: engine, index: engineIndex), points: points))
        }
        // Ticks up to the resolution of the largest histogram (its maximum sits at x = count).
        let candidates: [(value: Double, label: String)] = [
            (1, "0%"), (2, "50%"), (10, "90%"), (100, "99%"), (1e3, "99.9%"), (1e4, "99.99%"), (1e5, "99.999%"),
        ]
        let tics = candidates.filter { $0.value <= Swift.max(10, Double(maxCount)) }
        let panel = ChartPanel(
            xLabel: "percentile (log scale of 1/(1 - p); rightmost point is the maximum)", yLabel: "latency (ms)",
            logX: true, xTics: tics, series: series)
        return Chart(
            name: "latency-spectrum", title: "\(experiment.name): latency percentile spectrum",
            heading: "Latency percentile spectrum",
            caption: "Latency by percentile (coordinated-omission corrected, all repetitions pooled), per engine at "
                + "its highest concurrency.",
            panels: [panel])
    }

    /// The hockey stick: p50 and p99 latency against the offered rate.
    static func latencyVsRateChart(_ experiment: ExperimentModel, axis: String) -> Chart {
        var series: [ChartSeries] = []
        for group in groups(experiment, xAxis: axis) {
            for (name, dash, value) in [
                ("p99", 1, { (p: PointSummary) in p.latency.p99 }), ("p50", 2, { (p: PointSummary) in p.latency.p50 }),
            ] {
                series.append(
                    ChartSeries(
                        title: "\(group.title) \(name)", style: .linesPoints, color: group.color, dash: dash,
                        pointType: group.pointType,
                        points: group.points.map {
                            let y = value($0) / 1e6
                            return (xValue($0, axis: axis), y, y, y)
                        }))
            }
        }
        // Offered rates usually span decades; a log x axis keeps low rates apart and their labels legible.
        let (tics, categories) = xAxis(experiment, axis: axis)
        let logX = categories == nil && spansDecades(tics)
        let panel = ChartPanel(
            xLabel: "offered load, \(axis) (requests/s\(logX ? ", log scale" : ""))",
            yLabel: "latency (ms, log scale)", logX: logX, logY: true, xTics: tics, series: series)
        return Chart(
            name: "latency-vs-load", title: "\(experiment.name): latency vs offered load",
            heading: "Latency vs offered load",
            caption: "p50 (dashed) and p99 (solid) latency, measured from the intended send time, against the offered "
                + "arrival rate.",
            panels: [panel])
    }

    /// Success rate and server-side amplification against the injected error rate.
    static func errorRateChart(_ experiment: ExperimentModel, axis: String) -> Chart {
        let all = groups(experiment, xAxis: axis)
        let tics = xAxis(experiment, axis: axis).tics
        let success = all.map { group in
            ChartSeries(
                title: group.title, style: .linesPoints, color: group.color, dash: group.dash,
                pointType: group.pointType,
                points: group.points.map {
                    let y = (1 - $0.errorRate) * 100
                    return (xValue($0, axis: axis), y, y, y)
                })
        }
        let amplification = all.map { group in
            ChartSeries(
                title: group.title, style: .linesPoints, color: group.color, dash: group.dash,
                pointType: group.pointType,
                points: group.points.map {
                    let y = $0.amplification ?? $0.attemptsPerRequest
                    return (xValue($0, axis: axis), y, y, y)
                })
        }
        return Chart(
            name: "errors", title: "\(experiment.name): success rate and load amplification vs error rate",
            heading: "Success rate and amplification vs error rate",
            caption: "Left: share of logical requests that finally succeeded. Right: requests the server received "
                + "per logical request (attempts per request where the server did not count).",
            panels: [
                ChartPanel(
                    title: "success rate", xLabel: "injected error rate, \(axis) (fraction of attempts)",
                    yLabel: "success rate (%)", xTics: tics, yRange: (0, 105), series: success),
                ChartPanel(
                    title: "load amplification", xLabel: "injected error rate, \(axis) (fraction of attempts)",
                    yLabel: "server requests per logical request (x)", xTics: tics, series: amplification),
            ],
            size: (1200, 560))
    }

    /// One lines-and-points series per group, without error bars; `point` gives each point's x and y.
    static func lineSeries(_ groups: [Group], _ point: (PointSummary) -> (x: Double, y: Double)) -> [ChartSeries] {
        groups.map { group in
            ChartSeries(
                title: group.title, style: .linesPoints, color: group.color, dash: group.dash,
                pointType: group.pointType,
                points: group.points.map {
                    let (x, y) = point($0)
                    return (x, y, y, y)
                })
        }
    }

    /// Server load and success rate against the retry budget.
    static func budgetChart(_ experiment: ExperimentModel, axis: String) -> Chart {
        let all = groups(experiment, xAxis: axis)
        let (tics, categories) = xAxis(experiment, axis: axis)
        func series(_ value: @escaping (PointSummary) -> Double) -> [ChartSeries] {
            lineSeries(all) { (xValue($0, axis: axis, categories: categories), value($0)) }
        }
        return Chart(
            name: "budget", title: "\(experiment.name): server load vs retry budget",
            heading: "Server load vs retry budget",
            caption: "Left: requests the server received per logical request. Right: share of logical requests that "
                + "finally succeeded.",
            panels: [
                ChartPanel(
                    title: "server load", xLabel: "retry budget, \(axis)",
                    yLabel: "server requests per logical request (x)", xTics: tics,
                    series: series { $0.amplification ?? $0.attemptsPerRequest }),
                ChartPanel(
                    title: "success rate", xLabel: "retry budget, \(axis)", yLabel: "success rate (%)", xTics: tics,
                    yRange: (0, 105), series: series { (1 - $0.errorRate) * 100 }),
            ],
            size: (1200, 560))
    }

    /// Calls and completion time per backoff (jitter) strategy.
    static func backoffChart(_ experiment: ExperimentModel, axis: String) -> Chart {
        let all = groups(experiment, xAxis: axis)
        let (tics, categories) = xAxis(experiment, axis: axis)
        func series(_ value: @escaping (PointSummary) -> Double) -> [ChartSeries] {
            lineSeries(all) { (xValue($0, axis: axis, categories: categories), value($0)) }
        }
        return Chart(
            name: "backoff", title: "\(experiment.name): calls and completion time per backoff strategy",
            heading: "Calls and completion time per backoff strategy",
            caption: "Left: calls the server received (median over repetitions). Right: time to complete all the "
                + "cell's measured work.",
            panels: [
                ChartPanel(
                    title: "calls", xLabel: "backoff strategy, \(axis)", yLabel: "server calls (count)", xTics: tics,
                    series: series { $0.serverRequests ?? $0.attemptsPerRequest * $0.requests }),
                ChartPanel(
                    title: "completion time", xLabel: "backoff strategy, \(axis)", yLabel: "completion time (s)",
                    xTics: tics, series: series { $0.spanSeconds }),
            ],
            size: (1200, 560))
    }

    /// Breaker state over time, from `breaker_transition` events, per engine at the cell with most transitions.
    static func breakerChart(_ experiment: ExperimentModel) -> Chart? {
        var series: [ChartSeries] = []
        var injected: [ChartSeries] = []
        for (engineIndex, engine) in experiment.engines.enumerated() {
            var best: (cell: CellStatistics, point: PointSummary, events: [EventRecord])?
            for (pointIndex, point) in experiment.points.enumerated() where point.engine == engine {
                for cell in experiment.cells[pointIndex] {
                    let transitions = (experiment.events[cell.cell.id] ?? []).filter { $0.kind == "breaker_transition" }
                    if transitions.count > (best?.events.count ?? 0) { best = (cell, point, transitions) }
                }
            }
            guard let best else { continue }
            var points: [(x: Double, y: Double, low: Double, high: Double)] = [(0, 0, 0, 0)]
            for event in best.events {
                let state = breakerLevel(event)
                points.append((Double(event.tNs) / 1e9, state, state, state))
            }
            let end = Double(max(best.cell.cell.elapsedNs, best.cell.lastEndNs)) / 1e9
            if let last = points.last, end > last.x { points.append((end, last.y, last.y, last.y)) }
            let constant = constantAxes(experiment)
            let others = best.point.coordinates.filter { !constant.contains($0.name) }.map { label($0.name, $0.value) }
            series.append(
                ChartSeries(
                    title: ([engine] + others + ["rep \(best.cell.cell.repetition)"]).joined(separator: ", "),
                    style: .steps, color: ChartPalette.color(engine: engine, index: engineIndex),
                    dash: 1 + series.count % 5, points: points))
            let rates = (experiment.events[best.cell.cell.id] ?? []).filter {
                ["error_rate", "injected_error_rate"].contains($0.kind) && $0.value != nil
            }
            if !rates.isEmpty {
                injected.append(
                    ChartSeries(
                        title: engine, style: .steps, color: ChartPalette.color(engine: engine, index: engineIndex),
                        points: [(0, rates[0].value!, 0, 0)]
                            + rates.map { (Double($0.tNs) / 1e9, $0.value!, $0.value!, $0.value!) }))
            }
        }
        guard !series.isEmpty else { return nil }
        var panels = [
            ChartPanel(
                title: "breaker state", xLabel: "time since the cell started (s)", yLabel: "circuit breaker state",
                yTics: [(0, "closed"), (1, "half-open"), (2, "open")], yRange: (-0.2, 2.4),
                series: series)
        ]
        if !injected.isEmpty {
            panels.append(
                ChartPanel(
                    title: "injected error rate", xLabel: "time since the cell started (s)",
                    yLabel: "injected error rate (fraction)", yRange: (0, 1.05), series: injected))
        }
        return Chart(
            name: "breaker", title: "\(experiment.name): circuit breaker state over time", heading: "Breaker timeline",
            caption: "Circuit-breaker state over time, for each engine's cell with the most transitions"
                + (injected.isEmpty ? "." : ", beside the error rate the server injected."),
            panels: panels, size: (panels.count > 1 ? 1200 : 960, 560))
    }

    /// 0 closed, 1 half-open, 2 open: from the transition's detail (`a->b...`), else its value.
    static func breakerLevel(_ event: EventRecord) -> Double {
        if let detail = event.detail, let arrow = detail.range(of: "->") {
            let target = detail[arrow.upperBound...].drop { $0 == " " }
                .prefix { $0.isLetter || $0 == "_" || $0 == "-" }.lowercased()
            switch target {
            case "closed": return 0
            case "half_open", "half-open", "halfopen": return 1
            case "open": return 2
            default: break
            }
        }
        return min(2, max(0, event.value ?? 0))
    }

    /// Queue depth, memory and scheduling lag over time, per engine at its highest concurrency (repetition 0).
    static func pipelineChart(_ experiment: ExperimentModel) -> Chart? {
        let kinds: [(kind: String, title: String, label: String, scale: Double)] = [
            ("queue_depth", "queue depth", "queue depth (items)", 1),
            ("rss_bytes", "memory", "resident memory (MiB)", 1_048_576),
            ("lag_ns", "scheduling lag", "scheduling lag (ms)", 1e6),
        ]
        var panels: [ChartPanel] = []
        for kind in kinds {
            var series: [ChartSeries] = []
            for (engineIndex, engine) in experiment.engines.enumerated() {
                let indices = experiment.points.indices.filter { experiment.points[$0].engine == engine }
                guard let top = indices.map({ experiment.points[$0].concurrency }).max() else { continue }
                // With a recorder-policy axis every policy is shown; otherwise the engine's first top point.
                let atTop = indices.filter { experiment.points[$0].concurrency == top }
                let shown = experiment.varyingAxes.contains("recorderPolicy") ? atTop : Array(atTop.prefix(1))
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
        return Chart(
            name: "pipeline", title: "\(experiment.name): pipeline depth and memory over time",
            heading: "Pipeline depth and memory over time",
            caption: "Sample-pipeline queue depth, client resident memory and scheduling lag over one cell per engine "
                + "(highest concurrency, repetition 0).",
            panels: panels, size: (400 * max(2, panels.count), 520))
    }

    /// Client peak RSS and CPU per request against concurrency.
    static func resourcesChart(_ experiment: ExperimentModel) -> Chart {
        let all = groups(experiment, xAxis: "concurrency")
        let concurrencies = Array(Set(experiment.points.map(\.concurrency))).sorted()
        func series(_ value: @escaping (PointSummary) -> Double?) -> [ChartSeries] {
            lineSeries(all) { (Double($0.concurrency), value($0) ?? .nan) }
        }
        let tics = concurrencies.map { (Double($0), String($0)) }
        let logX = (concurrencies.first ?? 0) > 0
        return Chart(
            name: "resources", title: "\(experiment.name): client memory and CPU vs concurrency",
            heading: "Memory and CPU vs concurrency",
            caption: "Left: the client's peak resident memory. Right: the client's CPU time (user + system) over "
                + "the cell divided by its measured logical requests. Medians over repetitions.",
            panels: [
                ChartPanel(
                    title: "peak RSS", xLabel: "concurrency (log scale)", yLabel: "peak RSS (MiB)", logX: logX,
                    xTics: tics, series: series { $0.peakRSSBytes.map { $0 / 1_048_576 } }),
                ChartPanel(
                    title: "CPU per request", xLabel: "concurrency (log scale)", yLabel: "client CPU per request (µs)",
                    logX: logX, xTics: tics,
                    series: series { point in
                        point.cpuSeconds.map { $0 / Swift.max(1, point.requests) * 1e6 }
                    }),
            ],
            size: (1200, 560))
    }
}
