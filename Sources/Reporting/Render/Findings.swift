/// Generates the findings paragraph of an experiment from its numbers. Never a fixed sentence: every
/// figure comes from the data, with its interval where there is one.
enum Findings {
    /// An engine's best point: the highest median goodput (so failing fast never counts as fast), then throughput.
    static func best(of engine: String, in points: [PointSummary]) -> PointSummary? {
        points.filter { $0.engine == engine && $0.throughput.median.isFinite }.max { lhs, rhs in
            let l = lhs.goodput.median.isFinite ? lhs.goodput.median : 0
            let r = rhs.goodput.median.isFinite ? rhs.goodput.median : 0
            return l != r ? l < r : lhs.throughput.median < rhs.throughput.median
        }
    }

    static func sentences(for experiment: ExperimentModel) -> [String] {
        var out: [String] = []
        let points = experiment.points
        guard !points.isEmpty else { return ["No complete cells."] }
        func describe(_ point: PointSummary) -> String {
            let coordinates = point.coordinates.map { axis in
                axis.name == "concurrency" ? "concurrency \(point.concurrency)" : "\(axis.name) \(axis.value.display)"
            }
            return coordinates.joined(separator: ", ")
        }
        func interval(_ estimate: Estimate, _ format: (Double) -> String) -> String {
            Format.estimate(estimate, format)
        }
        // Best throughput per engine, with the speed-up against sync there.
        for engine in experiment.engines {
            guard let best = best(of: engine, in: points) else { continue }
            var sentence = "\(Markdown.escape(engine)) peaks at \(interval(best.throughput, Format.rate)) requests/s "
            sentence += "at \(Markdown.escape(describe(best))) (p99 \(Format.ms(best.latency.p99)) ms)"
            if let speedup = best.speedup {
                sentence += "; that is \(interval(speedup.ratio, Format.times)) the sync throughput"
                var notes: [String] = []
                if speedup.baselineConcurrency != best.concurrency {
                    notes.append("sync at concurrency \(speedup.baselineConcurrency)")
                }
                let counts = "\(speedup.counts[0]) vs \(speedup.counts[1]) repetitions"
                if speedup.significant {
                    notes.append("Mann-Whitney p = \(Format.fixed(speedup.pValue, 3)), \(counts)")
                } else if Statistics.smallestPossibleP(speedup.counts[0], speedup.counts[1]) >= 0.05 {
                    notes.append("~: too few repetitions to test")
                } else {
                    notes.append("~: not significant, Mann-Whitney p = \(Format.fixed(speedup.pValue, 3)), \(counts)")
                }
                sentence += " (" + notes.joined(separator: "; ") + ")"
            }
            out.append(sentence + ".")
        }
        // Efficiency from the lowest to the highest concurrency, per engine.
        var efficiency: [String] = []
        for engine in experiment.engines {
            let mine = points.filter { $0.engine == engine && $0.efficiency != nil }
            guard let low = mine.min(by: { $0.concurrency < $1.concurrency }),
                let high = mine.max(by: { $0.concurrency < $1.concurrency }), let lowEfficiency = low.efficiency,
                let highEfficiency = high.efficiency
            else { continue }
            var text = "\(Markdown.escape(engine)) \(interval(lowEfficiency, Format.percent)) at concurrency "
            text += "\(low.concurrency)"
            if high.concurrency != low.concurrency {
                text += " and \(interval(highEfficiency, Format.percent)) at concurrency \(high.concurrency)"
            }
            efficiency.append(text)
        }
        if !efficiency.isEmpty {
            let service = points.compactMap(\.serviceMeanNs)
            var sentence = "Efficiency against the Little's-law bound (concurrency / mean service time"
            if let lowest = service.min(), let highest = service.max() {
                sentence +=
                    lowest == highest
                    ? ", \(Format.ms(lowest)) ms" : ", \(Format.ms(lowest))–\(Format.ms(highest)) ms"
            }
            sentence += "): " + efficiency.joined(separator: "; ") + "."
            out.append(sentence)
        }
        // Errors and amplification.
        if let worst = points.filter({ $0.errorRate.isFinite }).max(by: { $0.errorRate < $1.errorRate }),
            worst.errorRate > 0
        {
            out.append(
                "The highest error rate is \(Format.percent(worst.errorRate)) (\(Markdown.escape(worst.engine)) at "
                    + "\(Markdown.escape(describe(worst))), \(Format.fixed(worst.attemptsPerRequest, 2)) attempts "
                    + "per request).")
        }
        if let peak = points.filter({ ($0.amplification ?? 0).isFinite }).max(by: {
            ($0.amplification ?? 0) < ($1.amplification ?? 0)
        }), let amplification = peak.amplification, amplification > 1.005 {
            out.append(
                "Server-side load amplification peaks at \(Format.times(amplification)) (\(Markdown.escape(peak.engine)) "
                    + "at \(Markdown.escape(describe(peak)))).")
        }
        // With an error-rate axis: success rate and amplification at the highest injected error rate.
        if let axis = ChartPlanner.firstVarying(ChartPlanner.errorRateAxes, in: experiment) {
            let rates = points.compactMap { $0.coordinate(axis)?.numberValue }
            if let highest = rates.max() {
                let atHighest = points.filter { $0.coordinate(axis)?.numberValue == highest }
                let constant = ChartPlanner.constantAxes(experiment)
                let parts = atHighest.map { point -> String in
                    let others = point.coordinates.filter { $0.name != axis && !constant.contains($0.name) }
                        .map { ChartPlanner.label($0.name, $0.value) }
                    var text = ([point.engine] + others).joined(separator: ", ")
                    text += ": \(Format.percent(1 - point.errorRate)) succeed"
                    if let amplification = point.amplification { text += " at \(Format.times(amplification)) load" }
                    return Markdown.escape(text)
                }
                out.append(
                    "At the highest injected error rate (\(Markdown.escape(axis)) \(JSONValue.formatNumber(highest))): "
                        + parts.joined(separator: "; ") + ".")
            }
        }
        // A rank test needs enough repetitions to ever be significant: say so when it cannot be.
        let comparisons = points.compactMap(\.speedup)
        if let smallest = comparisons.map({ Statistics.smallestPossibleP($0.counts[0], $0.counts[1]) }).max(),
            smallest >= 0.05
        {
            let counts = comparisons.first { Statistics.smallestPossibleP($0.counts[0], $0.counts[1]) == smallest }!
                .counts
            out.append(
                "With \(counts[0]) vs \(counts[1]) repetitions the Mann-Whitney U test cannot reach p < 0.05 (its "
                    + "smallest possible p is \(Format.fixed(smallest, 3))), so every speed-up is marked ~; run at least "
                    + "4 repetitions per cell to test differences.")
        }
        return out
    }
}
