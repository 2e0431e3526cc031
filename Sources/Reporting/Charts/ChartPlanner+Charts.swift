import LabStore

/// The charts of derived figures per point: throughput, latency against load, success and amplification,
/// treatments, resources. Each draws interval bars and follows the axis rules in `ChartPlanner`.
extension ChartPlanner {
    /// Throughput (and goodput when requests failed) against the experiment's x axis, else per engine.
    static func throughputChart(_ experiment: ExperimentModel, axis: String?) -> Chart {
        var metrics: [PlotMetric] = [.throughput]
        if experiment.points.contains(where: { $0.errorRate > 0.001 }), has(.goodput, in: experiment) {
            metrics.append(.goodput)
        }
        let groups = groups(experiment, xAxis: axis ?? ParameterName.concurrency.rawValue)
        // Crowded panels split as the treatment chart's do: each panel keeps every line of the compared treatment.
        let lines = treatmentAxes(experiment).first { $0 != axis }
        let what = metrics.count > 1 ? "throughput and goodput" : "throughput"
        let against = axis ?? "engine"
        let caption =
            (axis == nil ? "Per engine." : "Against \(against), one series per engine and setting.")
            + simulationNote(experiment)
            + (experiment.points.contains { ($0.metrics["samples_dropped"]?.high ?? 0) > 0 }
                ? " Where the recording pipeline dropped samples, requests whose samples were dropped are not counted "
                    + "here: such a point is the rate of stored samples, not of the requests the engine completed "
                    + "(the producer rate counts every one)." : "")
        var chart = metricChart(
            experiment, name: "throughput", title: "\(experiment.name): \(what) vs \(against)",
            heading: "\(what.prefix(1).uppercased() + what.dropFirst()) vs \(against)", caption: caption,
            metrics: metrics, axis: axis, groups: groups, lines: lines)
        // Categories that need the width put the panels one a row (`layout`).
        let (first, second) = chart.columns == 1 ? ("Top", "Bottom") : ("Left", "Right")
        chart.caption =
            (metrics.count > 1
                ? "\(first): requests completed per second. \(second): requests that succeeded per second. "
                : "Requests completed per second. ") + chart.caption
        return axis == ParameterName.concurrency.rawValue ? withReference(chart, experiment) : chart
    }

    /// wrk's throughput, where the experiment ran it at one pooling setting, as a dashed black line in each
    /// throughput panel against concurrency: the limit each engine's line can be read against.
    static func withReference(_ chart: Chart, _ experiment: ExperimentModel) -> Chart {
        let rows = ReferenceRatios.rows(experiment)
        guard Set(rows.map(\.pooling)).count == 1 else { return chart }
        var seen: Set<Int> = []
        let points = rows.filter { seen.insert($0.concurrency).inserted }.map {
            (
                x: Double($0.concurrency), y: $0.wrkThroughput.median, low: $0.wrkThroughput.low,
                high: $0.wrkThroughput.high
            )
        }.sorted { $0.x < $1.x }
        guard !points.isEmpty else { return chart }
        var chart = chart
        for index in chart.panels.indices where chart.panels[index].metric == PlotMetric.throughput.id {
            chart.panels[index].series.append(
                ChartSeries(
                    title: "wrk (reference)", style: .errorLines, color: "#000000", dash: 2, pointType: 1,
                    points: points))
        }
        chart.caption += " The dashed black line is wrk, the reference load generator, at the same concurrency "
        chart.caption += "against the same server from the same CPUs (median over its repetitions, with its interval)."
        return chart
    }

    /// The hockey stick: p50 and p99 latency against the offered rate, one panel each.
    static func latencyVsRateChart(_ experiment: ExperimentModel, axis: String) -> Chart {
        metricChart(
            experiment, name: "latency-vs-load", title: "\(experiment.name): latency vs offered load",
            heading: "Latency vs offered load",
            caption: "Left: median latency; right: p99 latency, each the median over repetitions of the run's own "
                + "percentile, measured from the intended send time, against the offered arrival rate.",
            metrics: [.p50, .p99], axis: axis, groups: groups(experiment, xAxis: axis))
    }

    /// Success rate and server-side amplification against the injected error rate.
    static func errorRateChart(_ experiment: ExperimentModel, axis: String) -> Chart {
        metricChart(
            experiment, name: "errors", title: "\(experiment.name): success rate and load amplification vs error rate",
            heading: "Success rate and amplification vs error rate",
            caption: "Left: share of logical requests that finally succeeded. Right: requests the server received "
                + "per logical request (attempts per request where the server did not count).",
            metrics: [.successRate, .amplification], axis: axis, groups: groups(experiment, xAxis: axis))
    }

    /// What a treatment axis (a strategy, a budget, a limiter setting) is judged by: the spec's answer metrics
    /// when it compares this axis, else the figures its kind is known for, else the first three of success rate,
    /// p99 latency, server connections and dropped samples that differ between points (a flat 100% says nothing).
    static func treatmentMetrics(_ experiment: ExperimentModel, treatment: String) -> [PlotMetric] {
        treatmentPanels(experiment, treatment: treatment).metrics
    }

    /// The treatment chart's metrics (at most three), and the candidates passed over on the way because every
    /// point had the same value (a flat line at one value says nothing), with that value as printed.
    static func treatmentPanels(_ experiment: ExperimentModel, treatment: String) -> (
        metrics: [PlotMetric], flat: [(metric: PlotMetric, value: String)]
    ) {
        var metrics: [PlotMetric] = []
        var flat: [(metric: PlotMetric, value: String)] = []
        for metric in treatmentCandidates(experiment, treatment: treatment) where metrics.count < 3 {
            if let value = constantValue(metric, in: experiment) {
                flat.append((metric, value))
            } else {
                metrics.append(metric)
            }
        }
        return (metrics, flat)
    }

    /// The value every point of the experiment has for `metric`, as printed (equal within rounding), when there
    /// are at least two points with it and no point has another; nil otherwise.
    static func constantValue(_ metric: PlotMetric, in experiment: ExperimentModel) -> String? {
        let values = experiment.points.compactMap { value($0, metric)?.y }
        guard values.count >= 2 else { return nil }
        let format: (Double) -> String = { y in
            let raw = y / metric.scale
            return Metric.named(metric.id)?.format(raw) ?? Format.significant(raw)
        }
        let printed = Set(values.map { Format.significant($0) })
        return printed.count == 1 ? format(values[0]) : nil
    }

    /// Every metric a treatment axis could be judged by, in order of preference, that some point has.
    static func treatmentCandidates(_ experiment: ExperimentModel, treatment: String) -> [PlotMetric] {
        var candidates: [PlotMetric]
        if let answer = experiment.spec.answer, answer.compare == treatment, !answer.metrics.isEmpty {
            candidates = answer.metrics.compactMap(PlotMetric.catalogue)
        } else if treatment == ParameterName.backoff.rawValue {
            candidates = [.serverCalls, .completion]
        } else if treatment == ParameterName.budget.rawValue {
            candidates = [.amplification, .successRate]
        } else {
            let generic: [PlotMetric?] = [
                .successRate, .p99, .catalogue("server_connections"), .catalogue("samples_dropped"),
            ]
            candidates = generic.compactMap { $0 }.filter { varies($0, with: treatment, in: experiment) }
        }
        return candidates.filter { has($0, in: experiment) }
    }

    /// The treatment chart: the treatment's metrics against the numeric x axis, one line per treatment value
    /// (the AWS "Exponential Backoff And Jitter" form); with no numeric axis, grouped points per treatment value.
    static func treatmentChart(
        _ experiment: ExperimentModel, treatment: String, x: String?, taken: inout Set<String>
    ) -> Chart? {
        guard let x else { return nil }
        // Two categorical axes and no number: the first is on x and the second among its series; one chart.
        if x != treatment, categoryIndex(experiment, axis: x) != nil { return nil }
        let (metrics, flat) = treatmentPanels(experiment, treatment: treatment)
        guard !metrics.isEmpty else { return nil }
        var name =
            switch ParameterName(rawValue: treatment) {
            case .backoff: "backoff"
            case .budget: "budget"
            default: "treatment"
            }
        if taken.contains(name) {
            var index = 2
            while taken.contains("\(name)-\(index)") { index += 1 }
            name = "\(name)-\(index)"
        }
        taken.insert(name)
        let titles = metrics.map(\.title)
        let what =
            titles.count > 1 ? titles.dropLast().joined(separator: ", ") + " and " + titles.last! : titles[0]
        let lineGroups = groups(experiment, xAxis: x)
        let settings = split(lineGroups, lines: treatment).map(\.suffix)
        let form =
            x == treatment
            ? "per \(treatment) value, as points side by side (categories are not joined)"
            : "against \(x), one line per \(treatment) value"
        var caption = "Each \(form)."
        caption += simulationNote(experiment)
        for item in flat {
            caption += " \(item.metric.title.capitalizedFirst) is not drawn: it was \(item.value) at every point, "
            caption += "whatever the \(treatment), a flat line (see the tables)."
        }
        var chart = metricChart(
            experiment, name: name,
            title: "\(experiment.name): \(what) " + (x == treatment ? "per \(treatment)" : "vs \(x) per \(treatment)"),
            heading: "\(what.prefix(1).uppercased() + what.dropFirst()) per \(treatment)",
            caption: caption, metrics: metrics, axis: x, groups: lineGroups, lines: treatment)
        // The layout is metricChart's: panels side by side, or one a row when their categories need the width.
        let layout =
            if settings.count > 1 {
                "One row of panels per metric (\(titles.joined(separator: ", "))), one column each for "
                    + settings.joined(separator: "; ") + "."
            } else if metrics.count > 1 {
                "Panels \(chart.columns == 1 ? "top to bottom" : "left to right"): \(titles.joined(separator: ", "))."
            } else {
                "The panel shows \(what)."
            }
        chart.caption = layout + " " + chart.caption
        if experiment.answer.analyses.contains("sre-client-throttling"), x == treatment {
            chart = withBookRatios(chart, experiment, axis: x)
        }
        if experiment.answer.analyses.contains("metastable-recovery"), x == treatment {
            chart = withUnrecovered(chart, experiment, axis: x)
        }
        return chart
    }

    /// A grey cross on the axis of the recovery-time panel at each treatment none of whose points has a recovery
    /// time (their repetitions did not recover), so that an empty category is not read as one left unmeasured.
    static func withUnrecovered(_ chart: Chart, _ experiment: ExperimentModel, axis: String) -> Chart {
        guard let categories = categoryIndex(experiment, axis: axis),
            let index = chart.panels.firstIndex(where: { $0.metric == "recovery_s" }), !chart.panels[index].logY
        else { return chart }
        var unrecovered: [Int: Bool] = [:]
        for point in experiment.points {
            guard let value = point.coordinate(axis), let x = categories[value.canonical] else { continue }
            let missing = !(point.metrics["recovery_s"]?.median.isFinite ?? false)
            unrecovered[x] = (unrecovered[x] ?? true) && missing
        }
        let points = unrecovered.filter(\.value).keys.sorted().map { (x: Double($0), y: 0.0, low: 0.0, high: 0.0) }
        guard !points.isEmpty else { return chart }
        var chart = chart
        chart.panels[index].series.append(
            ChartSeries(title: "no recovery time", style: .errorPoints, color: "#666666", pointType: 2, points: points))
        chart.caption += " Grey crosses on the recovery-time panel's axis mark the treatments with no recovery time "
        chart.caption += "on any engine."
        return chart
    }

    /// The SRE book's K − 1 rejected per accepted, as grey open diamonds beside each throttle's measured point in the
    /// backend-ratio panel, so the comparison the page makes can be seen.
    static func withBookRatios(_ chart: Chart, _ experiment: ExperimentModel, axis: String) -> Chart {
        guard let categories = categoryIndex(experiment, axis: axis),
            let index = chart.panels.firstIndex(where: { $0.metric == "backend_rejected_per_accepted" })
        else { return chart }
        let points = categories.compactMap { value, x -> (x: Double, y: Double, low: Double, high: Double)? in
            guard case .string(let name)? = JSONValue.parse(value), name.hasPrefix("k:"),
                let k = Double(name.dropFirst(2))
            else { return nil }
            return (Double(x), k - 1, k - 1, k - 1)
        }.sorted { $0.x < $1.x }
        guard !points.isEmpty else { return chart }
        var chart = chart
        chart.panels[index].series.append(
            ChartSeries(title: "SRE book: K − 1", style: .errorPoints, color: "#666666", pointType: 12, points: points))
        chart.caption += " Grey diamonds: the SRE book's K − 1 rejected per accepted, for each K."
        return chart
    }

    /// Client peak RSS and CPU per request against concurrency (log x; CPU on a log y axis).
    static func resourcesChart(_ experiment: ExperimentModel) -> Chart {
        metricChart(
            experiment, name: "resources", title: "\(experiment.name): client memory and CPU vs concurrency",
            heading: "Memory and CPU vs concurrency",
            caption: "Left: the client's peak resident memory (the axis starts near the lowest value, not at 0). "
                + "Right: the client's CPU time (user + system) from the start of the measured phase to the end "
                + "of the run, divided by its measured logical requests (start-up and warm-up left out)."
                + idleCostNote(experiment)
                + (experiment.points.contains(where: \.isSimulated)
                    ? " Live cells only: the simulation (engine sim) has no process to measure." : ""),
            metrics: [.peakRSS, .cpuPerRequest], axis: ParameterName.concurrency.rawValue,
            // The simulation has no process to measure.
            groups: groups(experiment, xAxis: ParameterName.concurrency.rawValue) { !$0.isSimulated })
    }

    /// The resources caption's sentence on the lowest concurrency, where few requests a second share the CPU the
    /// client burns while it waits, so its CPU per request is mostly that fixed cost; "" when that rate is high.
    static func idleCostNote(_ experiment: ExperimentModel) -> String {
        let live = experiment.points.filter { !$0.isSimulated && $0.cpuSeconds != nil }
        guard let lowest = live.map(\.concurrency).min(),
            let rate = live.filter({ $0.concurrency == lowest }).map(\.throughput.median).max(), rate < 1000
        else { return "" }
        return " At concurrency \(lowest) the client made at most \(Format.significant(rate)) requests a second, so "
            + "its CPU per request there is mostly what the process burns while it waits (timers, event loops, "
            + "threads), shared over few requests; compare the engines where many requests are in flight."
    }

    /// The caption's sentence on simulated series, "" without them: which lines they are, that their times are
    /// virtual, and how far each side's sweep reaches along concurrency.
    static func simulationNote(_ experiment: ExperimentModel) -> String {
        let simulated = experiment.points.filter(\.isSimulated)
        guard !simulated.isEmpty else { return "" }
        let live = experiment.points.filter { !$0.isSimulated }
        var note = " Engine sim is the discrete-event simulation of the same cells (same server seed), in virtual time"
        if live.isEmpty { return note + "." }
        var clauses: [String] = []
        if Set(live.map(\.engine)).count == 1 {
            clauses.append(
                "have open markers (the live ones filled) and, where a line joins their points, dashed lines, in the "
                    + "colour of the live series with the same setting")
        }
        let simMax = simulated.map(\.concurrency).max() ?? 0
        let liveMax = live.map(\.concurrency).max() ?? 0
        if simMax > liveMax {
            clauses.append("run to \(simMax) clients where the live ones stop at \(liveMax)")
        }
        if !clauses.isEmpty { note += "; its series " + clauses.joined(separator: ", and ") }
        return note + "."
    }

    /// Whether `metric` changes with `treatment`: some points that differ only in the treatment differ in value
    /// (a figure that only tells engines apart, like their connection count, says nothing about the treatment).
    static func varies(_ metric: PlotMetric, with treatment: String, in experiment: ExperimentModel) -> Bool {
        var values: [String: [Double]] = [:]
        for point in experiment.points {
            guard let y = value(point, metric)?.y else { continue }
            let key =
                ([point.engine, String(point.concurrency)]
                + point.coordinates.filter { $0.name != treatment }.map { label($0.name, $0.value) })
                .joined(separator: "\u{1}")
            values[key, default: []].append(y)
        }
        return values.values.contains { list in
            guard let low = list.min(), let high = list.max() else { return false }
            return high - low > 1e-9 * Swift.max(1, abs(high))
        }
    }
}
