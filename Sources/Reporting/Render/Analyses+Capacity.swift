import AsyncPatterns
import LabStore

extension Analyses {
    /// The p99 limit of the load knee, as a multiple of the unloaded mean service time.
    static let kneeMultiple = 5.0

    /// Per context: the highest offered rate whose p99 stays within `kneeMultiple` × the mean service time the
    /// server measured at the lowest rate, and the p99 at the next rate.
    static func loadKnee(_ view: AnswerView) -> Output {
        var output = Output()
        guard let axis = view.answer.by, let p99 = Metric.named("p99_ms") else { return output }
        for context in view.contexts {
            let points = view.byValues.compactMap { by in view.points(context: context, by: by).first }
            guard let unloaded = points.first?.serviceMeanNs else { continue }
            let limit = unloaded / 1e6 * kneeMultiple
            var last: PointSummary?
            var beyond: PointSummary?
            for point in points {
                guard let value = point.metrics[p99.id]?.median else { continue }
                if value <= limit && beyond == nil { last = point } else if beyond == nil { beyond = point }
            }
            var sentence = context.isEmpty ? "" : "\(Markdown.escape(context)): "
            sentence += "p99 stays within \(Format.fixed(kneeMultiple, 0))× the unloaded mean service time "
            sentence += "(\(Format.significant(unloaded / 1e6)) ms, so \(Format.significant(limit)) ms) "
            if let last {
                sentence += "up to \(Markdown.escape(axis)) \(view.byValue(last)?.display ?? "")"
                sentence += " (p99 \(Format.estimate(last.metrics[p99.id]!, p99.format)) ms)"
            } else {
                sentence += "at no \(Markdown.escape(axis)) measured"
            }
            if let beyond {
                sentence += "; at \(view.byValue(beyond)?.display ?? "") it is "
                sentence += "\(Format.estimate(beyond.metrics[p99.id]!, p99.format)) ms"
            } else {
                sentence += ", the highest measured"
            }
            output.findings.append(sentence + ".")
        }
        return output
    }
}

extension Analyses {
    /// One engine's (treatment's) slope of peak RSS against concurrency in one context.
    struct MemorySlope {
        /// The treatment, with the context when there is one.
        var name: String
        /// KiB per in-flight request, with a 95% bootstrap interval over cells from 10 cells on.
        var estimate: Estimate
        /// The bootstrap's slopes in draw order (empty below 10 cells), for ratios between engines.
        var draws: [Double]
        var cells: [(x: Double, y: Double, key: String)]
    }

    /// Per engine (treatment) and context: the slope of the client's peak RSS against concurrency over all cells,
    /// in KiB per in-flight request, with a 95% bootstrap interval over cells; and the names measured at one
    /// concurrency only, which have no slope.
    static func memorySlopes(_ view: AnswerView) -> (slopes: [MemorySlope], single: [String]) {
        var slopes: [MemorySlope] = []
        var single: [String] = []
        for context in view.contexts {
            var treatments: [String] = []
            for point in view.experiment.points
            where view.context(point) == context
                && !treatments.contains(view.treatment(point))
            {
                treatments.append(view.treatment(point))
            }
            for treatment in treatments {
                var cells: [(x: Double, y: Double, key: String)] = []
                for (index, point) in view.experiment.points.enumerated()
                where view.context(point) == context && view.treatment(point) == treatment {
                    for cell in view.experiment.cells[index] {
                        guard let rss = cell.peakRSSBytes else { continue }
                        cells.append((Double(cell.cell.concurrency), rss / 1024, cell.cell.cellKey))
                    }
                }
                let name = AnswerView.label(treatment: treatment, context: context)
                guard Set(cells.map(\.x)).count >= 2, let slope = slope(cells.map { ($0.x, $0.y) }) else {
                    single.append(name)
                    continue
                }
                var estimate = Estimate.exact(slope)
                var draws: [Double] = []
                if cells.count >= 10 {
                    var generator = SplitMix64(seed: ModelBuilder.seed(for: cells.map(\.key), salt: "memory-slope"))
                    for _ in 0..<2000 {
                        let draw = cells.indices.map { _ in cells[Int(generator.next() % UInt64(cells.count))] }
                        if let value = Self.slope(draw.map { ($0.x, $0.y) }) { draws.append(value) }
                    }
                    if !draws.isEmpty { estimate = .bootstrap(slope, sortedDraws: draws.sorted()) }
                }
                slopes.append(MemorySlope(name: name, estimate: estimate, draws: draws, cells: cells))
            }
        }
        return (slopes, single)
    }

    /// The index's headline row of a memory experiment: the engine with the smallest slope against the one with the
    /// largest, as a ratio of slopes with a 95% interval from the two bootstraps' draws taken in pairs.
    static func memorySlopeHeadline(_ view: AnswerView, link: String) -> [String]? {
        let slopes = memorySlopes(view).slopes.sorted { $0.estimate.median < $1.estimate.median }
        guard let best = slopes.first, let worst = slopes.last, slopes.count >= 2 else { return nil }
        let center = best.estimate.median / worst.estimate.median
        let pairs = zip(best.draws, worst.draws).map { $0 / $1 }.filter(\.isFinite).sorted()
        let ratio = pairs.isEmpty ? Estimate.exact(center) : .bootstrap(center, sortedDraws: pairs)
        return [
            link, "KiB per in-flight request (slope of peak RSS)", "every concurrency measured",
            Markdown.escape(best.name) + " " + Format.estimate(best.estimate, Format.significant),
            Markdown.escape(worst.name) + " " + Format.estimate(worst.estimate, Format.significant),
            Format.estimate(ratio, Format.times) + " (95% bootstrap over cells; no rank test)",
        ]
    }

    /// The memory-slope analysis: a finding per engine and the page's section.
    static func memorySlope(_ view: AnswerView) -> Output {
        var output = Output()
        let (slopes, single) = memorySlopes(view)
        let rows = slopes.map { slope -> [String] in
            let low = slope.cells.min { $0.x < $1.x }!
            let high = slope.cells.max { $0.x < $1.x }!
            return [
                Markdown.escape(slope.name), Format.estimate(slope.estimate, Format.significant),
                "\(slope.cells.count)",
                "\(Format.significant(low.y / 1024)) MiB at \(Int(low.x)) to \(Format.significant(high.y / 1024)) MiB at \(Int(high.x))",
            ]
        }
        output.findings = slopes.map { slope in
            "\(Markdown.escape(slope.name)): \(Format.estimate(slope.estimate, Format.significant)) KiB of client "
                + "memory per in-flight request (least-squares slope of peak RSS against concurrency over "
                + "\(slope.cells.count) cells)."
        }
        var section = "## Memory per in-flight request\n\n"
        section += "The least-squares slope of each cell's peak resident memory against its concurrency, per engine, "
        section += "with a 95% bootstrap interval over cells (2000 resamples; shown without an interval below 10 "
        section += "cells). The intercept (the runtime's own memory) is left out.\n\n"
        section += Markdown.table(
            header: ["engine", "KiB per in-flight request [95% bootstrap]", "cells", "peak RSS"],
            alignRight: [false, true, true, false], rows: rows)
        if !single.isEmpty {
            section += "\nNo slope for \(Markdown.escape(single.joined(separator: "; "))): measured at one concurrency "
            section += "only (the sync engine is sequential).\n"
        }
        output.section = section
        return output
    }

    /// The least-squares slope of y on x; nil when x does not vary.
    static func slope(_ points: [(Double, Double)]) -> Double? {
        let n = Double(points.count)
        let meanX = points.reduce(0) { $0 + $1.0 } / n
        let meanY = points.reduce(0) { $0 + $1.1 } / n
        let sxx = points.reduce(0) { $0 + ($1.0 - meanX) * ($1.0 - meanX) }
        guard sxx > 0 else { return nil }
        return points.reduce(0) { $0 + ($1.0 - meanX) * ($1.1 - meanY) } / sxx
    }
}
