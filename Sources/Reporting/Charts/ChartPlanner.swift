import LabStore

/// Chooses the charts an experiment gets from the axes it sweeps and the events it recorded.
///
/// The rules, in one place:
/// - The x axis is numeric when the experiment sweeps a number (a rate, an error rate, concurrency, a timeout):
///   series are then lines with interval bars. A categorical axis (a strategy, a budget, on/off) swept beside a
///   number is a treatment: one line per treatment value. Only when nothing numeric is swept does a categorical
///   axis go on x, and then as grouped points with interval bars, offset per series and never joined.
/// - A panel holds at most `maximumSeries` series; more are split into panels by engine or by another axis.
/// - Every derived figure is drawn with its interval bars (`PointSummary.metrics`), and the caption says whether
///   the bars are 95% intervals or the range of too few runs.
enum ChartPlanner {
    /// Axis names the planner recognises, with the spellings specs use.
    static let rateAxes = ["rate", "offeredRate", "arrivalRate"]
    static let errorRateAxes = ["errorRate", "error_rate", "failureRate"]
    static let budgetAxes = ["budget", "retryBudget", "retry_budget"]
    static let backoffAxes = ["backoff", "jitter", "backoffStrategy"]

    /// The most series one panel holds before it is split; the palette has as many colours.
    static let maximumSeries = 8

    /// The charts of `experiment`, in page order.
    static func charts(for experiment: ExperimentModel) -> [Chart] {
        let x = mainAxis(experiment)
        var charts: [Chart] = [throughputChart(experiment, axis: x), spectrumChart(experiment)]
        if let axis = firstVarying(rateAxes, in: experiment) {
            charts.append(latencyVsRateChart(experiment, axis: axis))
        }
        if let axis = firstVarying(errorRateAxes, in: experiment) {
            charts.append(errorRateChart(experiment, axis: axis))
        }
        var treatmentNames: Set<String> = []
        for treatment in treatmentAxes(experiment) {
            if let chart = treatmentChart(experiment, treatment: treatment, x: x, taken: &treatmentNames) {
                charts.append(chart)
            }
        }
        if let chart = breakerChart(experiment) { charts.append(chart) }
        if let chart = pipelineChart(experiment) { charts.append(chart) }
        if sweepsConcurrency(experiment), experiment.points.contains(where: { $0.peakRSSBytes != nil }) {
            charts.append(resourcesChart(experiment))
        }
        return charts
    }

    // MARK: Axes

    /// The x axis of the experiment's charts: the spec's `answer.by` when it varies, else the first swept number
    /// (offered rate, error rate, concurrency, any other numeric axis), else the first categorical axis; nil when
    /// only the engine varies.
    static func mainAxis(_ experiment: ExperimentModel) -> String? {
        if let by = experiment.spec.answer?.by, isVarying(by, in: experiment) { return by }
        let numeric = numericAxes(experiment)
        for names in [rateAxes, errorRateAxes, ["concurrency"]] {
            if let axis = names.first(where: numeric.contains) { return axis }
        }
        if let axis = numeric.first { return axis }
        if let compare = experiment.spec.answer?.compare, categoricalAxes(experiment).contains(compare) {
            return compare
        }
        return categoricalAxes(experiment).first
    }

    /// Axes that a treatment chart compares: the categorical ones, and retry budgets and backoff strategies even
    /// when numeric, with the spec's `answer.compare` first. With no other numeric axis such an axis is the x axis
    /// and still gets its treatment chart.
    static func treatmentAxes(_ experiment: ExperimentModel) -> [String] {
        var axes = experiment.varyingAxes.filter { axis in
            categoricalAxes(experiment).contains(axis)
                || (budgetAxes + backoffAxes).contains(axis) && isVarying(axis, in: experiment)
        }
        if let compare = experiment.spec.answer?.compare, let index = axes.firstIndex(of: compare) {
            axes.remove(at: index)
            axes.insert(compare, at: 0)
        }
        return axes
    }

    /// Varying axes whose values are all numbers (concurrency only when the spec sweeps it), in spec order.
    static func numericAxes(_ experiment: ExperimentModel) -> [String] {
        experiment.varyingAxes.filter { axis in
            if axis == "concurrency" { return sweepsConcurrency(experiment) }
            return isVarying(axis, in: experiment) && categoryIndex(experiment, axis: axis) == nil
        }
    }

    /// Varying axes with a non-numeric value, in spec order.
    static func categoricalAxes(_ experiment: ExperimentModel) -> [String] {
        experiment.varyingAxes.filter {
            $0 != "concurrency" && isVarying($0, in: experiment) && categoryIndex(experiment, axis: $0) != nil
        }
    }

    static func isVarying(_ axis: String, in experiment: ExperimentModel) -> Bool {
        experiment.varyingAxes.contains(axis) && !constantAxes(experiment).contains(axis)
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
        case "budget", "retryBudget", "retry_budget": return "retry budget (\(axis))"
        case "backoff", "jitter", "backoffStrategy": return "backoff strategy (\(axis))"
        default: return axis.hasSuffix("Ms") ? "\(axis) (ms)" : axis
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
}
