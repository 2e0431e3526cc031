import LabStore

/// The page section on how fast the machine was while each point was measured. Before and after every cell the
/// runner times a fixed piece of work on the client's CPUs (`speed_probe_ns` events); on a shared host another
/// tenant's load slows it as it slows the engines. Beside each point's spread of throughput it shows the probe's
/// spread and their rank correlation, so a reader can tell an interval widened by the machine from one widened by
/// the engine.
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

    /// The spread of the probe above which a point's repetitions are said to have met different machines.
    static let noticeableSpread = 0.10

    /// The rows: points with at least two repetitions that have probes.
    static func rows(_ experiment: ExperimentModel) -> [Row] {
        var rows: [Row] = []
        for (index, point) in experiment.points.enumerated() {
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
                        Format.percent(Row.spread(row.probes))
                            + (Row.spread(row.probes) > noticeableSpread ? " ‡" : ""),
                        Format.percent(Row.spread(row.throughputs)),
                        correlation.isFinite ? Format.fixed(correlation, 2) : "n/a",
                    ])
        }
        let header = [
            "reps", "probe ms", "probe spread", "throughput spread", "rank correlation (probe, throughput)",
        ]
        out += Markdown.table(
            header: ["engine"] + axes.map(Markdown.escape) + header,
            alignRight: [false] + axes.map { _ in true } + header.map { _ in true }, rows: table)
        out += "\nProbe: a fixed chain of 200,000 dependent loads through a 2 MiB table, timed by the runner on the "
        out += "client's CPUs just before and just after each cell; a repetition's figure is the mean of its two. "
        out += "Probe ms: median over the point's repetitions. Spread: largest over smallest, less one, over the "
        out += "repetitions; ‡ marks a probe spread above \(Format.percent(noticeableSpread)), repetitions that met "
        out += "a machine of different speed. Rank correlation: Spearman's, over the repetitions; near −1 the "
        out += "slower machine gave the lower throughput, so the point's interval is the machine's width as much "
        out += "as the engine's; near 0 the throughput moved for other reasons.\n"
        return out
    }
}
