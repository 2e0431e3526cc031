import LabStore

/// The page section on how fast the machine was while each point was measured. Before and after every cell the
/// runner times a fixed piece of work on the client's CPUs (`speed_probe_ns` events): CPU and cache speed there,
/// nothing of the server's CPU or of memory the host reclaims. Beside each point's spread of throughput it shows the
/// probe's spread and their rank correlation; it marks a point only where both point at the machine (a large spread
/// and a strongly negative correlation over enough repetitions), since a probe that moves alone says little.
/// Simulated cells (`sim`) have no probe and are left out.
enum MachineSpeed {
    /// One point's figures.
    struct Row {
        /// The point.
        var point: PointSummary
        /// Per repetition with a probe: the mean of its probes, ns, and the repetition's throughput.
        var probes: [Double]
        var throughputs: [Double]

        /// Largest over smallest, less one: how far apart the repetitions were.
        static func spread(_ values: [Double]) -> Double {
            guard let low = values.min(), let high = values.max(), low > 0 else { return .nan }
            return high / low - 1
        }

        /// Spearman's rank correlation of probe time and throughput: near −1 when the repetitions on a slower
        /// machine (a longer probe) had the lower throughput.
        var correlation: Double { Statistics.spearman(probes, throughputs) }
    }

    /// The probe spread above which a point may be marked (with `strongCorrelation`).
    static let noticeableSpread = 0.10
    /// The rank correlation of probe and throughput at or below which a point may be marked.
    static let strongCorrelation = -0.7
    /// The fewest repetitions whose correlation is read at all for a mark.
    static let minimumRepetitions = 5
    /// The mark of a point whose throughput followed the probe.
    static let mark = "‡"

    /// Whether the point's repetitions met a machine of changing speed that moved its throughput: the probe spread is
    /// above `noticeableSpread` and its rank correlation with throughput at most `strongCorrelation`, over at least
    /// `minimumRepetitions` repetitions.
    static func followsProbe(_ row: Row) -> Bool {
        let correlation = row.correlation
        return row.probes.count >= minimumRepetitions && Row.spread(row.probes) > noticeableSpread
            && correlation.isFinite && correlation <= strongCorrelation
    }

    /// The rows: points with at least two repetitions that have probes.
    static func rows(_ experiment: ExperimentModel) -> [Row] {
        var rows: [Row] = []
        for (index, point) in experiment.points.enumerated() where point.engine != EngineName.sim.rawValue {
            var probes: [Double] = []
            var throughputs: [Double] = []
            for cell in experiment.cells[index] {
                guard let probe = EventFigures.speedProbeNs(experiment.events[cell.cell.id] ?? []),
                    cell.throughput.isFinite
                else { continue }
                probes.append(probe)
                throughputs.append(cell.throughput)
            }
            if probes.count >= 2 { rows.append(Row(point: point, probes: probes, throughputs: throughputs)) }
        }
        return rows
    }

    /// The page section, or "" when no cell has a probe (a database written before the probe existed).
    static func section(_ experiment: ExperimentModel, axes: [String]) -> String {
        let rows = rows(experiment)
        guard !rows.isEmpty else { return "" }
        let all = rows.flatMap(\.probes).sorted()
        var out = "## Machine speed during the cells\n\n"
        out += "The runner's speed probe took \(Format.ms(Statistics.median(all))) ms (median over the experiment's "
        out += "cells, from \(Format.ms(all.first!)) to \(Format.ms(all.last!)) ms).\n\n"
        var table: [[String]] = []
        for row in rows {
            let correlation = row.correlation
            table.append(
                [Markdown.escape(row.point.engine)]
                    + axes.map { Markdown.escape(row.point.coordinate($0)?.display ?? "") } + [
                        "\(row.probes.count)", Format.ms(Statistics.median(row.probes)),
                        Format.percent(Row.spread(row.probes)),
                        Format.percent(Row.spread(row.throughputs)),
                        (correlation.isFinite ? Format.fixed(correlation, 2) : "n/a")
                            + (followsProbe(row) ? " " + mark : ""),
                    ])
        }
        let header = [
            "reps", "probe ms", "probe spread", "throughput spread", "rank correlation (probe, throughput)",
        ]
        out += Markdown.table(
            header: ["engine"] + axes.map(Markdown.escape) + header,
            alignRight: [false] + axes.map { _ in true } + header.map { _ in true }, rows: table)
        let marked = rows.filter(followsProbe).count
        let spread = Format.percent(noticeableSpread)
        let rho = Format.fixed(strongCorrelation, 1)
        out += "\nProbe: a fixed chain of 200,000 dependent loads through a 2 MiB table, run twice by the runner "
        out += "on the client's CPUs just before and just after each cell and timed on the second, warm pass (the "
        out += "first mostly times memory the cell evicted from the caches); a repetition's figure is the mean of "
        out += "its two. It measures the CPU and cache speed left to the client's CPUs at those two moments; it "
        out += "does not see the server's CPU, nor memory the host reclaims, nor what happened during the cell. "
        out += "Probe ms: median over the point's repetitions. Spread: largest over smallest, less one, over the "
        out += "repetitions. Rank correlation: Spearman's, over the repetitions; near −1 the repetitions with the "
        out += "slower probe had the lower throughput. \(mark) marks a point whose probe spread is above \(spread) "
        out += "and whose rank correlation is \(rho) or lower over at least \(minimumRepetitions) repetitions: "
        out += "there the machine's speed likely widened the throughput's interval. "
        out +=
            marked == 0
            ? "No point is marked: the probe gives no sign that the machine's speed moved the throughput.\n"
            : "\(marked) of \(rows.count) points \(marked == 1 ? "is" : "are") marked.\n"
        return out
    }
}
