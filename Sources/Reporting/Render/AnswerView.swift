import AsyncPatterns

/// An experiment seen through its spec's `answer`: each point as a treatment (a value of the compared axis, or
/// an engine), at a value of the `by` axis, in a context (every other varying coordinate, and the engine when
/// engines are not what is compared).
struct AnswerView {
    let experiment: ExperimentModel
    let answer: ReportAnswer
    /// Axes that vary between points, apart from the compared and the `by` axis.
    let contextAxes: [String]

    /// The view the question's findings and table take: `experiment` by its spec's `answer`, except that a
    /// metastable experiment's switches (backoff, budget, breaker, throttle) read as one axis of named treatments
    /// ("no retries", "retries + breaker", ...; `ChartPlanner.byPattern`), so that its treatments are compared with
    /// each other rather than backoff off against full within each setting of the other switches.
    static func comparing(_ experiment: ExperimentModel) -> AnswerView {
        let compared = ChartPlanner.byPattern(experiment) ?? experiment
        return AnswerView(experiment: compared, answer: compared.answer)
    }

    init(experiment: ExperimentModel, answer: ReportAnswer) {
        self.experiment = experiment
        self.answer = answer
        contextAxes = experiment.varyingAxes.filter { axis in
            axis != answer.compare && axis != answer.by
                && Set(experiment.points.map { $0.coordinate(axis)?.canonical ?? "" }).count > 1
        }
    }

    /// The treatment a point received: its engine, or its value of the compared axis.
    func treatment(_ point: PointSummary) -> String {
        answer.compare == "engine" ? point.engine : (point.value(answer.compare)?.display ?? "")
    }

    /// The point's value of the `by` axis; nil without one.
    func byValue(_ point: PointSummary) -> JSONValue? {
        guard let by = answer.by else { return nil }
        if by == "concurrency" { return .number(Double(point.concurrency)) }
        return point.value(by)
    }

    /// The context of a point, as words: "async, errorRate 0.1"; empty when there is only one context.
    func context(_ point: PointSummary) -> String {
        var parts: [String] = []
        if answer.compare != "engine" && experiment.engines.count > 1 { parts.append(point.engine) }
        for axis in contextAxes {
            parts.append("\(axis) \(point.coordinate(axis)?.display ?? "")")
        }
        return parts.joined(separator: ", ")
    }

    /// A point's name in a list: its treatment and context, "none, async"; either alone when the other is empty.
    static func label(treatment: String, context: String) -> String {
        [treatment, context].filter { !$0.isEmpty }.joined(separator: ", ")
    }

    /// `label(treatment:context:)` of `point`.
    func label(_ point: PointSummary) -> String {
        Self.label(treatment: treatment(point), context: context(point))
    }

    /// Contexts in display order (the order of the points).
    var contexts: [String] {
        var seen: [String] = []
        for point in experiment.points where !seen.contains(context(point)) { seen.append(context(point)) }
        return seen
    }

    /// Values of the `by` axis, ascending; [nil] without one.
    var byValues: [JSONValue?] {
        guard answer.by != nil else { return [nil] }
        return Array(Set(experiment.points.compactMap(byValue))).sorted(by: JSONValue.precedes)
    }

    /// The points of one context at one value of `by`.
    func points(context: String, by: JSONValue?) -> [PointSummary] {
        experiment.points.filter { self.context($0) == context && byValue($0) == by }
    }

    /// The `by` value a context's comparison is told at: the largest at which all treatments but at most one
    /// were measured (the sequential sync engine runs at concurrency 1 only), and at least two.
    func headlineBy(context: String) -> JSONValue? {
        let values = byValues
        let counts = values.map { Set(points(context: context, by: $0).map(treatment)).count }
        let wanted = max(2, (counts.max() ?? 0) - 1)
        return values.indices.last { counts[$0] >= wanted }.map { values[$0] } ?? values.last ?? nil
    }

    /// "at concurrency 100" or "" without a `by` axis.
    func byText(_ value: JSONValue?) -> String {
        guard let by = answer.by, let value else { return "" }
        return "at \(by) \(value.display)"
    }

    /// Points that have the metric, best first (ties keep point order).
    func ranked(_ points: [PointSummary], by metric: Metric) -> [PointSummary] {
        let present = points.filter { $0.metrics[metric.id]?.median.isFinite ?? false }
        return present.enumerated().sorted { lhs, rhs in
            let l = lhs.element.metrics[metric.id]!.median
            let r = rhs.element.metrics[metric.id]!.median
            if l != r { return metric.better == .lower ? l < r : l > r }
            return lhs.offset < rhs.offset
        }.map(\.element)
    }

    /// The median ratio of `point`'s metric to `other`'s with its interval, and a Mann-Whitney test.
    func compare(_ point: PointSummary, _ other: PointSummary, _ metric: Metric, resamples: Int = 2000)
        -> Comparison?
    {
        guard let mine = point.metrics[metric.id], let theirs = other.metrics[metric.id] else { return nil }
        let seed = StableHash.combine(
            ModelBuilder.seed(for: point.cellKeys, salt: "answer-" + metric.id),
            ModelBuilder.seed(for: other.cellKeys, salt: "answer-base-" + metric.id))
        let ratio = Statistics.bootstrapRatio(mine.samples, theirs.samples, seed: seed, resamples: resamples)
        let p = Statistics.mannWhitneyP(mine.samples, theirs.samples)
        return Comparison(
            ratio: ratio, pValue: p,
            counts: [mine.samples.count, theirs.samples.count],
            baselineConcurrency: other.concurrency, baselineThroughput: theirs.median)
    }

    /// "0.23× [0.21, 0.25], Mann-Whitney p = 0.008" or with "~" when the test cannot or does not reject.
    static func comparisonText(_ comparison: Comparison) -> String {
        var text = Format.estimate(comparison.ratio, Format.times)
        let counts = comparison.counts
        if Statistics.smallestPossibleP(counts[0], counts[1]) >= 0.05 {
            text += " (~: \(counts[0]) vs \(counts[1]) repetitions are too few to test)"
        } else if comparison.significant {
            text += " (Mann-Whitney \(Format.pValue(comparison.pValue)))"
        } else if comparison.pValue < 0.05 {
            text += " (~: the interval includes 1×, although Mann-Whitney \(Format.pValue(comparison.pValue)))"
        } else {
            text += " (~: not significant, Mann-Whitney \(Format.pValue(comparison.pValue)))"
        }
        return text
    }
}
