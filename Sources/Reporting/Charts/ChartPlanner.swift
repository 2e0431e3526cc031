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
///   the bars are intervals for the median from order statistics (and their coverage) or the range of too few runs.
enum ChartPlanner {
    /// Parameters that get a treatment chart even when their values are numbers: retry budgets and backoff
    /// strategies. (`jitter` is the server's latency jitter, a plain numeric axis.)
    static let treatmentParameters: [ParameterName] = [.budget, .backoff]

    /// The most series one panel holds before it is split; the palette has as many colours.
    static let maximumSeries = 8

    /// The charts of `experiment`, in page order.
    static func charts(for experiment: ExperimentModel) -> [Chart] {
        let x = mainAxis(experiment)
        let byPattern = byPattern(experiment)
        // A metastable experiment's throughput is drawn per named treatment, not against one of its switches.
        var charts: [Chart] = [
            byPattern.map { throughputChart($0, axis: patternAxis) } ?? throughputChart(experiment, axis: x),
            spectrumChart(experiment),
        ]
        if experiment.varies(.rate) {
            charts.append(latencyVsRateChart(experiment, axis: ParameterName.rate.rawValue))
        }
        if experiment.varies(.errorRate) {
            charts.append(errorRateChart(experiment, axis: ParameterName.errorRate.rawValue))
        }
        var treatmentNames: Set<String> = []
        if let byPattern {
            let axis = patternAxis
            if let chart = treatmentChart(byPattern, treatment: axis, x: axis, taken: &treatmentNames) {
                charts.append(chart)
            }
        } else {
            for treatment in treatmentAxes(experiment) {
                if let chart = treatmentChart(experiment, treatment: treatment, x: x, taken: &treatmentNames) {
                    charts.append(chart)
                }
            }
        }
        if let chart = breakerChart(experiment) { charts.append(chart) }
        // Goodput over time answers a metastable experiment's question: first, so the index shows it.
        if let chart = goodputChart(experiment) { charts.insert(chart, at: byPattern == nil ? charts.endIndex : 0) }
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
        for name in [ParameterName.rate, .errorRate, .concurrency] where numeric.contains(name.rawValue) {
            return name.rawValue
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
                || treatmentParameters.map(\.rawValue).contains(axis) && isVarying(axis, in: experiment)
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
            if axis == ParameterName.concurrency.rawValue { return sweepsConcurrency(experiment) }
            return isVarying(axis, in: experiment) && categoryIndex(experiment, axis: axis) == nil
        }
    }

    /// Varying axes with a non-numeric value, in spec order.
    static func categoricalAxes(_ experiment: ExperimentModel) -> [String] {
        experiment.varyingAxes.filter {
            $0 != ParameterName.concurrency.rawValue && isVarying($0, in: experiment)
                && categoryIndex(experiment, axis: $0) != nil
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
        experiment.spec.axes.contains { $0.name == ParameterName.concurrency.rawValue }
            && Set(experiment.points.map(\.concurrency)).count > 1
    }

    /// Axes with one value across the experiment's points, or across `points` when given (a chart that draws some
    /// of them): left out of legend entries.
    static func constantAxes(_ experiment: ExperimentModel, among points: [PointSummary]? = nil) -> Set<String> {
        var constant: Set<String> = []
        for axis in experiment.varyingAxes
        where Set((points ?? experiment.points).map { $0.coordinate(axis)?.canonical ?? "" }).count <= 1 {
            constant.insert(axis)
        }
        return constant
    }

    /// An axis label with its unit, for the axes whose units are known.
    static func axisLabel(_ axis: String) -> String {
        switch ParameterName(rawValue: axis) {
        case .concurrency: "concurrency (requests in flight)"
        case .errorRate: "injected error rate, \(axis) (fraction of attempts)"
        case .rate: "offered load, \(axis) (requests/s)"
        case .latencyMs: "server latency, latencyMs (ms)"
        case .jitter: "server latency jitter, jitter (fraction of latencyMs)"
        case .budget: "retry budget (\(axis))"
        case .backoff: "backoff strategy (\(axis))"
        default: axis.hasSuffix("Ms") ? "\(axis) (ms)" : axis
        }
    }

    static func label(_ name: String, _ value: JSONValue) -> String {
        name == ParameterName.concurrency.rawValue ? "c=\(value.display)" : "\(name)=\(value.display)"
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
        if axis == ParameterName.concurrency.rawValue { return Double(point.concurrency) }
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

extension ExperimentModel {
    /// Whether the cells differ in parameter `name` (`varyingAxes` holds it).
    func varies(_ name: ParameterName) -> Bool { varyingAxes.contains(name.rawValue) }
}
