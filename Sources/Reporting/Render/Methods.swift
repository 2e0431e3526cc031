import AsyncPatterns
import Foundation
import LabStore

/// The methods and threats-to-validity section of an experiment page, computed from the cells: the machine, the
/// pinning, CPU steal and other load measured during the cells, cell durations, repetitions, the statistics, which
/// side saturated, and what the paired design controls.
enum Methods {
    /// A cell's CPU use as a share of what it could use.
    struct Load {
        /// Client CPU over the cell's wall time, over the CPUs the client may use.
        var client: Double?
        /// Server CPU over the cell's wall time (the server has one CPU when pinned).
        var server: Double?
        /// Stolen over available, machine-wide.
        var steal: Double?
        /// CPU used by neither client nor server over available, machine-wide.
        var other: Double?
    }

    /// The CPUs the client may use: all but the server's when the runner pins (two or more CPUs, mock server).
    static func clientCPUs(_ run: RunRecord) -> Int {
        pinned(run) ? run.cores - 1 : max(1, run.cores)
    }

    static func pinned(_ run: RunRecord) -> Bool {
        run.cores >= 2 && (run.target.isEmpty || run.target == "mock")
    }

    static func load(_ cell: CellStatistics, run: RunRecord) -> Load {
        let wall = Double(cell.cell.elapsedNs) / 1e9
        var load = Load()
        if wall > 0 {
            load.client = cell.cpuSeconds.map { $0 / wall / Double(clientCPUs(run)) }
            if let server = cell.cell.server, let user = server.cpuUserSeconds, let sys = server.cpuSysSeconds {
                load.server = (user + sys) / wall / (pinned(run) ? 1 : Double(max(1, run.cores)))
            }
        }
        if let machine = cell.cell.machine, machine.totalSeconds > 0 {
            load.steal = machine.stealSeconds / machine.totalSeconds
            let server = cell.cell.server.map { ($0.cpuUserSeconds ?? 0) + ($0.cpuSysSeconds ?? 0) } ?? 0
            load.other =
                max(0, machine.busySeconds - machine.stealSeconds - (cell.cpuSeconds ?? 0) - server)
                / machine.totalSeconds
        }
        return load
    }

    /// "0.1% / 2.3%": the machine-wide steal share over the experiment's cells; "not measured" for old cells.
    static func stealSummary(_ experiment: ExperimentModel) -> String {
        let steal = experiment.cells.joined().compactMap { cell -> Double? in
            guard cell.cell.engine != EngineName.sim.rawValue, let machine = cell.cell.machine, machine.totalSeconds > 0
            else { return nil }
            return machine.stealSeconds / machine.totalSeconds
        }
        guard let worst = steal.max() else { return "not measured" }
        return "\(Format.percent(Statistics.median(steal))) / \(Format.percent(worst))"
    }

    /// Share at or above which a side counts as saturated.
    static let saturation = 0.9

    static func section(_ experiment: ExperimentModel, resamples: Int) -> String {
        let run = experiment.run
        // The simulation's cells ran in virtual time on no measured process: the machine figures are the live cells'.
        let allCells = Array(experiment.cells.joined())
        let cells = allCells.filter { $0.cell.engine != EngineName.sim.rawValue }
        var out = "## Methods and threats to validity\n\n"
        let memory = Double(run.memoryBytes) / 1_073_741_824
        out += "- **Machine.** \(Markdown.escape(run.cpuModel)), \(run.cores) CPUs, \(Format.fixed(memory, 1)) GiB; "
        out +=
            "\(Markdown.escape(run.os)), kernel \(Markdown.escape(run.kernel)); \(Markdown.escape(run.swiftVersion)); "
        out += "release build.\n"
        if pinned(run) {
            out += "- **Pinning.** The mock server runs as its own process pinned to CPU \(run.cores - 1); the client "
            out += "is pinned to CPU\(run.cores > 2 ? "s 0–\(run.cores - 2)" : " 0"). Client and server never share a "
            out += "CPU, but on \(run.cores) CPUs either can be the bottleneck (see saturation below).\n"
        } else {
            out += "- **Pinning.** None: the server measured is not the mock server, or the machine has one CPU.\n"
        }
        let loads = cells.map { load($0, run: run) }
        let steal = loads.compactMap(\.steal)
        let other = loads.compactMap(\.other)
        if steal.isEmpty {
            out += "- **CPU steal and other load.** Not measured: these cells were written before the runner "
            out += "recorded the machine's CPU figures (schema 3).\n"
        } else {
            out += "- **CPU steal and other load**, machine-wide over each cell: steal median "
            out += "\(Format.percent(Statistics.median(steal))), largest \(Format.percent(steal.max()!)); CPU used by "
            out += "other processes median \(Format.percent(Statistics.median(other))), largest "
            out += "\(Format.percent(other.max()!)). "
            let noisy = zip(steal, other).filter { $0.0 > 0.05 || $0.1 > 0.1 }.count
            out +=
                noisy == 0
                ? "No cell had steal above 5% or other load above 10%.\n"
                : "**\(noisy) of \(steal.count) cells had steal above 5% or other load above 10%: their figures may be "
                    + "noisy.**\n"
        }
        let spans = cells.map(\.spanSeconds).filter(\.isFinite).sorted()
        if let shortest = spans.first, let longest = spans.last {
            out += "- **Cell durations** (measured span, warm-up excluded): median "
            out += "\(Format.significant(Statistics.median(spans))) s, shortest \(Format.significant(shortest)) s, "
            out += "longest \(Format.significant(longest)) s, over \(cells.count) cells.\n"
        }
        let simulated = allCells.count - cells.count
        if simulated > 0 {
            out += "- **Simulation.** \(simulated) cell\(simulated == 1 ? "" : "s") ran the discrete-event simulation "
            out += "(engine `sim`) with the same parameters and server seed: times in virtual nanoseconds, no CPU, "
            out += "memory, process or speed-probe figures, no wrk reference. They are left out of the steal, "
            out += "duration and saturation figures above and below, and are not flagged for missing them.\n"
        }
        let reps = Array(Set(experiment.points.map(\.repetitions))).sorted()
        out += "- **Repetitions** per point: \(reps.map(String.init).joined(separator: ", ")). "
        if let block = experiment.spec.blockAxis {
            out +=
                "The sweep runs in blocks, one per value of `\(Markdown.escape(block))`, in a seeded order; within a "
            out +=
                "block, repetitions are interleaved (repetition 0 of every cell, then repetition 1, ...) in a seeded "
            out += "order. The treatments compared at one value thus share the same minutes of the machine: drift "
            out += "slower than a block neither favours one of them nor widens a point's interval, but it can move "
            out += "whole blocks, so a change along `\(Markdown.escape(block))` is less certain than a comparison "
            out += "within it.\n"
        } else {
            out += "Repetitions of all points are interleaved in a seeded order, so drift over the run spreads over "
            out += "every treatment instead of landing on one.\n"
        }
        out += "- **Statistics.** Each figure is the median over repetitions of a per-cell value. With "
        out += "\(Estimate.minimumForInterval) or more repetitions its interval is distribution-free, from order "
        out += "statistics: of the n runs sorted, the kth smallest to the kth largest, for the largest k whose "
        out += "coverage (the chance that such an interval holds the true median, 1 − 2·P(Bin(n, ½) ≤ k − 1)) is at "
        out += "least 95%, or the range of the runs when even that falls short"
        let counted = reps.filter { $0 >= Estimate.minimumForInterval }
        if !counted.isEmpty {
            out += " (here: "
            out += counted.map { "with \($0) repetitions, \(Format.medianInterval(repetitions: $0))" }
                .joined(separator: "; ")
            out += ")"
        }
        out += ". With fewer repetitions, the range of the runs (n = N), and no difference is called significant. "
        out += "Ratios of two groups' medians have a 95% percentile-bootstrap interval (\(resamples) resamples of "
        out += "each group, independently, seeded from the cells' keys): 95% is the bootstrap's nominal level, not "
        out += "a guaranteed coverage, and with few runs a side the true coverage tends to be lower. Differences are "
        out += "tested with a two-sided Mann-Whitney U test (exact for small groups, with ties by the permutation test "
        out += "on mid-ranks), and marked ~ when p ≥ 0.05 or when the ratio's interval includes 1. Latency is "
        out += "measured from each request's intended send time (coordinated-omission corrected), in HdrHistograms "
        out += "(3 significant digits). Two percentiles differ: the findings and the question's table give the "
        out += "median over repetitions of each cell's own percentile, with its interval; the \"Throughput and "
        out += "latency\" table gives the percentile of all repetitions' requests pooled, which a single slow "
        out += "repetition can dominate.\n"
        out += saturationLine(experiment, loads: loads)
        if experiment.points.contains(where: { !$0.isOpenLoop }) {
            out += "- **Achieved concurrency** (closed loops). Client in flight: from the measured attempts' start and "
            out += "end times, the most at once and the time-weighted mean over the measured span (not counted when "
            out += "the recording pipeline dropped samples). Server in service: the mock server's `peakInFlight` "
            out += "counter, and requests served × mean service time / the cell's wall time (Little's law over the "
            out += "whole engine run, warm-up included on both sides, since the server's counters cover it; the "
            out += "server does not count `/health` in service, so neither figure exists for it). A point whose "
            out += "server peak stayed below 95% of its nominal concurrency is marked \(LoadCheck.closedMark).\n"
        }
        out += "- **Paired design.** The server's random stream (fault decisions and latency draws) derives from the "
        out += "master seed, the server's parameters and the repetition, so within a repetition every engine and "
        out += "client-side treatment meets the same faults for the same request id and attempt. It does not "
        out += "control what depends on timing: which writes overlap in a contention test, which requests find the "
        out += "server full, how the kernel schedules client and server. Open-loop arrival times derive from each "
        out += "cell's own parameters, so they differ between treatments.\n"
        out += settingsInForce(experiment.spec)
        return out + "\n"
    }

    static func saturationLine(_ experiment: ExperimentModel, loads: [Load]) -> String {
        let client = loads.compactMap(\.client)
        let server = loads.compactMap(\.server)
        guard !client.isEmpty || !server.isEmpty else {
            return "- **Saturation.** Not measured (no CPU figures for these cells).\n"
        }
        var out = "- **Which side saturated.** "
        var parts: [String] = []
        if let peak = client.max() {
            let hot = client.filter { $0 >= saturation }.count
            parts.append(
                "client CPU reached \(Format.percent(peak)) of its CPUs at most (\(hot) of \(client.count) cells at "
                    + "\(Format.percent(saturation)) or more)")
        }
        if let peak = server.max() {
            let hot = server.filter { $0 >= saturation }.count
            parts.append(
                "server CPU \(Format.percent(peak)) of its CPU at most (\(hot) of \(server.count) cells at "
                    + "\(Format.percent(saturation)) or more)")
        }
        out += parts.joined(separator: "; ") + ". "
        out += "Shares are CPU time over the cell's wall time, warm-up included. "
        let closedRule = "saturated side sets the throughput of its cells, whatever the treatment"
        let openRule =
            "the schedule sets the arrival rate, and a saturated side shows first as late sends and higher latency "
            + "(measured from the intended send), and in the throughput only once the achieved rate falls behind the "
            + "offered one (\(LoadCheck.openMark) in the tables)"
        switch (experiment.points.contains { !$0.isOpenLoop }, experiment.points.contains(where: \.isOpenLoop)) {
        case (true, true): out += "In a closed loop a \(closedRule); in an open loop \(openRule).\n"
        case (true, false): out += "A \(closedRule).\n"
        case (false, _): out += "In an open loop \(openRule).\n"
        }
        return out
    }

    /// The spec's resilience settings with every default filled in, and its server settings.
    static func settingsInForce(_ spec: ReportSpec) -> String {
        var out = ""
        if let resilience = spec.resilience,
            let configuration = try? JSONDecoder().decode(
                ResilienceConfiguration.self, from: Data(resilience.canonical.utf8))
        {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            if let data = try? encoder.encode(configuration) {
                out += "- **Resilience settings in force**, defaults filled in (the cell parameters `backoff`, "
                out += "`maxAttempts`, `baseMs`, `capMs`, `budget`, `breaker`, `throttle`, `limiter` and "
                out +=
                    "`acquireTimeoutMs` override them per cell): `\(Markdown.codeSafe(String(decoding: data, as: UTF8.self)))`.\n"
            }
        } else {
            out += "- **Resilience settings.** Only the cell parameters; no `resilience` object.\n"
        }
        if let server = spec.server {
            out += "- **Mock-server settings** beyond the cell parameters: `\(Markdown.codeSafe(server.canonical))`; "
            out += "everything else at the defaults `mock-server --help` lists.\n"
        }
        return out
    }
}
