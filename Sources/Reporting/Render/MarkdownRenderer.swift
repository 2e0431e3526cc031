import LabStore

/// Whether a chart's images exist.
enum ChartStatus: Sendable {
    /// SVG and PNG were rendered.
    case rendered
    /// Only `.gp` and `.dat` were written; the reason says why and how to fix it.
    case notRendered(String)
}

/// Renders the index and the experiment pages as Markdown.
struct MarkdownRenderer {
    let model: ReportModel
    /// The output folder as the reader knows it (used in re-render instructions).
    let displayDirectory: String
    /// The database path as given.
    let databasePath: String
    /// Bootstrap resamples per interval of a ratio of medians (for the methods section).
    let resamples: Int

    // MARK: Index

    func index(charts: [String: [Chart]], status: [String: ChartStatus]) -> String {
        var out = "# async-patterns: report\n\n"
        out += "Rendered by `swift run report` from `\(Markdown.escape(databasePath))`: "
        out += "\(model.experiments.count) experiment\(model.experiments.count == 1 ? "" : "s"), "
        out += "\(model.experiments.reduce(0) { $0 + $1.cellCount }) complete cells, \(model.sampleCount) samples. "
        out += "Throughput is the median over repetitions with a distribution-free interval for the median from "
        out += "order statistics in brackets, whose coverage is at least 95% (with \(Estimate.minimumForInterval) "
        out += "repetitions it is \(Format.medianInterval(repetitions: Estimate.minimumForInterval)); with fewer "
        out += "than \(Estimate.minimumForInterval) repetitions no interval is claimed: the range of the "
        out += "runs is shown instead, as `(n = 3, range low–high)`, and no difference can be called significant); "
        out += "latency is coordinated-omission corrected. Re-render with `swift run report --format markdown`; "
        out += "check that this folder matches the database with `swift run report --check`.\n\n"
        out += "## Headline\n\n"
        out += "Each experiment by the metric that answers its question: the best treatment where most were "
        out += "compared, against the baseline or the worst, as a ratio of medians with its interval and a rank test "
        out += "(~ marks a difference that is not significant or cannot be tested).\n\n"
        let views = model.experiments.map(AnswerView.comparing)
        var rows: [[String]] = []
        for (experiment, compared) in zip(model.experiments, views) {
            let link = "[\(Markdown.escape(experiment.name))](\(experiment.slug)/README.md)"
            rows += AnswerFindings.headlineRows(compared, link: link)
        }
        out += Markdown.table(
            header: ["experiment", "metric", "at", "best", "against", "ratio [95% bootstrap / range]"],
            alignRight: [false, false, false, true, true, true], rows: rows)
        for (experiment, compared) in zip(model.experiments, views) {
            out += "\n## [\(Markdown.escape(experiment.name))](\(experiment.slug)/README.md)\n\n"
            if !experiment.spec.question.isEmpty {
                out += "> \(Markdown.escape(experiment.spec.question))\n\n"
            }
            out += targetNote(experiment.run)
            out += findings(for: experiment, compared: compared).map { "- " + $0 + "\n" }.joined()
            if let chart = charts[experiment.slug]?.first {
                out += "\n" + chartBlock(chart, slug: experiment.slug, status: status, fromIndex: true)
            }
        }
        out += "\n## Provenance\n\n"
        var provenance: [[String]] = []
        for experiment in model.experiments {
            let run = experiment.run
            provenance.append([
                Markdown.escape(experiment.name), "\(run.id)", Markdown.escape(run.startedAt),
                Markdown.escape(String(run.gitCommit.prefix(12)) + (run.gitDirty ? " (dirty)" : "")),
                Markdown.escape(run.swiftVersion), Markdown.escape(run.os), Markdown.escape(run.cpuModel),
                "\(run.cores)", "\(run.masterSeed)", Methods.stealSummary(experiment),
            ])
        }
        out += Markdown.table(
            header: [
                "experiment", "run", "started (UTC)", "commit", "Swift", "OS", "CPU", "cores", "master seed",
                "CPU steal (median / max)",
            ],
            alignRight: [false, true, false, false, false, false, false, true, true, true], rows: provenance)
        out += notRenderedNote(status)
        return out
    }

    // MARK: Experiment page

    func page(for experiment: ExperimentModel, charts: [Chart], status: [String: ChartStatus]) -> String {
        let spec = experiment.spec
        var out = "# \(Markdown.escape(experiment.name))\n\n"
        if !spec.question.isEmpty { out += "> **Question.** \(Markdown.escape(spec.question))\n\n" }
        if !spec.notes.isEmpty { out += "\(Markdown.escape(spec.notes))\n\n" }
        out += targetNote(experiment.run)
        out += "[Back to the index](../README.md)\n\n## Findings\n\n"
        let compared = AnswerView.comparing(experiment)
        out += findings(for: experiment, compared: compared).map { "- " + $0 + "\n" }.joined() + "\n"
        do {
            let answer = experiment.answer
            let view = AnswerView(experiment: experiment, answer: answer)
            out += "## The question's metrics\n\n"
            if spec.answer == nil {
                out += "The spec names no `answer`, so points are compared by throughput and p99 latency. "
            }
            out += "Per point, the metrics that answer the question: medians over repetitions with their interval "
            out += "from order statistics (see Methods), or the range of the runs with fewer than "
            out += "\(Estimate.minimumForInterval). Recompute them "
            out += "from [cells.csv](cells.csv).\n\n"
            out += AnswerFindings.table(compared) + "\n"
            for name in answer.analyses {
                let section = Analyses.output(name, view).section
                if !section.isEmpty { out += section + "\n" }
            }
            out += SimulationComparison.section(compared.experiment)
        }
        out += "## Setup\n\n"
        var setup: [[String]] = []
        setup.append(["engines", Markdown.escape(experiment.engines.joined(separator: ", "))])
        for axis in spec.axes {
            // The values measured, and the spec's list when a run measured fewer (e.g. a quick run).
            let measured = Array(Set(experiment.points.compactMap { $0.coordinate(axis.name) }))
                .sorted(by: JSONValue.precedes)
            var text = (measured.isEmpty ? axis.values : measured).map(\.display).joined(separator: ", ")
            if !measured.isEmpty && Set(measured) != Set(axis.values) {
                text += " (spec lists " + axis.values.map(\.display).joined(separator: ", ") + ")"
            }
            setup.append(["axis " + Markdown.escape(axis.name), Markdown.escape(text)])
        }
        for item in spec.fixed {
            setup.append(["fixed " + Markdown.escape(item.name), Markdown.escape(item.value.display)])
        }
        let cells = experiment.cells.joined()
        func distinct(_ values: [Int]) -> String {
            Array(Set(values)).sorted().map(String.init).joined(separator: ", ")
        }
        setup.append(["requests per cell", distinct(cells.map(\.cell.plannedRequests))])
        setup.append(["warm-up requests per cell", distinct(cells.map(\.cell.warmupRequests))])
        setup.append(["repetitions", distinct(experiment.points.map(\.repetitions))])
        setup.append(["master seed", "\(experiment.run.masterSeed)"])
        setup.append(["cells", "\(experiment.cellCount) complete, \(experiment.sampleCount) samples"])
        setup.append(["runs", experiment.runIDs.map { "#\($0)" }.joined(separator: ", ")])
        out += Markdown.table(header: ["setting", "value"], alignRight: [false, false], rows: setup)
        out += "\n" + Methods.section(experiment, resamples: resamples)

        let axes = experiment.varyingAxes
        let openLoop = experiment.points.contains(where: \.isOpenLoop)
        out += "## Throughput and latency\n\n"
        var rows: [[String]] = []
        for point in experiment.points {
            rows.append(
                [Markdown.escape(point.engine)] + axes.map { Markdown.escape(point.coordinate($0)?.display ?? "") }
                    + [
                        "\(point.repetitions)", Format.estimate(point.throughput, Format.rate),
                        Format.estimate(point.goodput, Format.rate), speedupText(point), Format.ms(point.latency.p50),
                        Format.ms(point.latency.p90), Format.ms(point.latency.p99), Format.ms(point.latency.p999),
                        Format.ms(point.latency.max),
                    ] + (openLoop ? [Format.ms(point.uncorrectedLatency.p99)] + arrivalColumns(point) : [])
                    + [saturationText(point, experiment: experiment)])
        }
        out += Markdown.table(
            header: ["engine"] + axes.map(Markdown.escape) + [
                "reps", "RPS [CI / range]", "goodput [CI / range]", "speed-up vs sync", "p50 ms", "p90 ms",
                "p99 ms",
                "p99.9 ms", "max ms",
            ] + (openLoop ? ["p99 uncorrected ms", "achieved arrivals/s", "late first attempts"] : [])
                + ["client / server CPU"],
            alignRight: [false] + axes.map { _ in true } + Array(repeating: true, count: openLoop ? 13 : 10), rows: rows
        )
        out += "\nClient / server CPU: median share of the CPUs each side may use over the cell; † marks "
        out += "\(Format.percent(Methods.saturation)) or more, a side that saturated and so set the cell's throughput."
        if experiment.points.contains(where: \.isSimulated) {
            out += " Engine `sim` is the discrete-event simulation: its RPS and latencies are in virtual time, it "
            out += "uses no CPU to measure and is not compared with sync (\"simulated\")."
        }
        if openLoop {
            out += " Achieved arrivals/s: first attempts actually sent per second; late first attempts: sent more "
            out += "than 10 ms after their intended time. " + LoadCheck.openSentence
        }
        out += "\n"
        out += "\nRPS: final requests per second over the measured span (first intended send to last end, warm-up "
        out += "excluded). Latency: from the first attempt's intended send to the final attempt's end, from an "
        out += "HdrHistogram of all repetitions pooled"
        out +=
            openLoop
            ? " (the uncorrected p99 runs from the actual send, as tools without wrk2's correction report)" : ""
        out += ". Speed-up: ratio of median throughputs against sync at the same settings, 95% percentile-bootstrap "
        out += "interval (with fewer than \(Estimate.minimumForInterval) repetitions, the extreme ratios the runs "
        out += "allow); ~ means a Mann-Whitney U test finds no significant difference (p ≥ 0.05), "
        out += "which with 3 or fewer repetitions a side it can never find.\n\n"
        out += LoadCheck.section(experiment)

        out += ReferenceRatios.section(experiment)
        out += "## Errors, retries and resources\n\n"
        // Efficiency is a closed-loop figure (the model leaves it out of open-loop points).
        let showEfficiency = experiment.points.contains { $0.efficiency != nil }
        rows = []
        for point in experiment.points {
            var row =
                [Markdown.escape(point.engine)] + axes.map { Markdown.escape(point.coordinate($0)?.display ?? "") }
            row += [
                Format.percent(point.errorRate), Format.fixed(point.attemptsPerRequest, 3),
                point.amplification.map { Format.fixed($0, 3) } ?? "n/a",
                // The simulated server opens no connections (it stores 0).
                point.isSimulated
                    ? "simulated"
                    : point.metrics["server_connections"].map { Format.estimate($0, Format.count) } ?? "n/a",
            ]
            if showEfficiency { row.append(point.efficiency.map { Format.estimate($0, Format.percent) } ?? "n/a") }
            // The simulation has no process to measure: its CPU and memory columns say so rather than n/a.
            let absent = point.isSimulated ? "simulated" : "n/a"
            row += [
                point.serviceMeanNs.map(Format.ms) ?? "n/a",
                point.metrics["client_cpu_us_per_request"].map { Format.estimate($0, Format.significant) } ?? absent,
                point.metrics["server_cpu_us_per_request"].map { Format.estimate($0, Format.significant) } ?? absent,
                point.peakRSSBytes.map(Format.mebibytes) ?? absent, Format.ms(point.attemptLatency.p99),
                Markdown.escape(point.finalClasses.map { "\($0.label) \($0.count)" }.joined(separator: ", ")),
            ]
            rows.append(row)
        }
        let header =
            ["error rate", "attempts/request", "amplification", "server connections"]
            + (showEfficiency ? ["efficiency [CI / range]"] : [])
            + [
                "service ms", "client CPU µs/request", "server CPU µs/request", "peak RSS MiB", "attempt p99 ms",
                "final outcomes",
            ]
        out += Markdown.table(
            header: ["engine"] + axes.map(Markdown.escape) + header,
            alignRight: [false] + axes.map { _ in true } + header.map { $0 != "final outcomes" }, rows: rows)
        out += "\nError rate: 1 − successes / final outcomes. Attempts/request: attempts actually sent (not "
        out +=
            "rejected by a breaker, budget, throttle or limiter) per logical request. Amplification: requests the server "
        out += "counted per logical request, warm-up included on both sides. Server connections: TCP connections "
        out += "the mock server accepted over the cell, warm-up included. "
        if showEfficiency {
            out += "Efficiency (closed loops only): throughput over the Little's-law bound, concurrency / mean "
            out += "server service time. "
        }
        out += "Client CPU per request: user + system CPU of the client's process from the start of the measured "
        out += "phase to the end of the run, per measured logical request (its start-up and warm-up left out, its "
        out += "drain and shutdown in); server CPU per request: the "
        out += "mock server's user + system CPU over the cell per request it served, warm-up included. Both include "
        out += "what a process burns while it waits (its timers, event loops and threads), shared over the requests: "
        out += "where few requests a second are made (low concurrency, long latency) that fixed cost dominates, so "
        out +=
            "compare the engines' cost per request where their sides are busy. RSS is the client's. Medians over repetitions.\n"
        let speed = MachineSpeed.section(experiment, axes: axes)
        if !speed.isEmpty { out += "\n" + speed }

        if !charts.isEmpty {
            out += "\n## Charts\n"
            for chart in charts {
                out += "\n" + chartBlock(chart, slug: experiment.slug, status: status, fromIndex: false)
            }
        }
        out += "\n## Data\n\n"
        out += "[cells.csv](cells.csv) has one row per cell (one repetition of one point): its key, run, engine, "
        out += "concurrency and repetition, every parameter as `param.<name>`, and every per-cell metric this page "
        out += "uses, named as in the tables above (`throughput`, `p99_ms`, `server_calls`, ...; the README's "
        out += "\"Reading a report\" lists them all). Each median and interval above is recomputed from it by "
        out += "grouping rows that share every parameter and taking the median over repetitions.\n"
        out += "\n## Provenance\n\n"
        out += provenanceTable(experiment.run, steal: Methods.stealSummary(experiment))
        out += notRenderedNote(status.filter { $0.key.hasPrefix(experiment.slug + "/") })
        return out
    }

    /// The page's findings: from the spec's `answer` when it has one (its named analyses, written for the question,
    /// first; then the question's metrics compared by treatment, in `compared`, `AnswerView.comparing(experiment)`),
    /// else the generic throughput and error figures.
    func findings(for experiment: ExperimentModel, compared: AnswerView) -> [String] {
        let answer = experiment.answer
        let view = AnswerView(experiment: experiment, answer: answer)
        var out = answer.analyses.flatMap { Analyses.output($0, view).findings }
        out += AnswerFindings.sentences(compared)
        if let first = answer.metrics.first.flatMap(Metric.named) {
            out += AnswerFindings.peakSentence(compared, metric: first)
        }
        if let saturation = AnswerFindings.saturationSentence(compared) { out.append(saturation) }
        if let simulation = SimulationComparison.finding(compared.experiment, brief: true) { out.append(simulation) }
        return out.isEmpty ? ["No comparison: fewer than two treatments were measured at any point."] : out
    }

    /// For a run against `--target`: which server was measured, and which figures are left out and why.
    func targetNote(_ run: RunRecord) -> String {
        guard !run.target.isEmpty, run.target != "mock" else { return "" }
        return "> **Measured against `\(Markdown.codeSafe(run.target))`, not the mock server.** The spec's server "
            + "settings (latency, jitter, path) were not in force: every request went to that URL, and the server's "
            + "own behaviour stands in for them. Figures that need the mock server's counters are left out (n/a): "
            + "efficiency against the Little's-law bound, service time, server connections and CPU, load "
            + "amplification.\n\n"
    }

    func provenanceTable(_ run: RunRecord, steal: String) -> String {
        let memory = Double(run.memoryBytes) / 1_073_741_824
        let rows: [[String]] = [
            ["run", "#\(run.id), \(Markdown.escape(run.status.rawValue))"],
            ["started / ended (UTC)", Markdown.escape(run.startedAt + " / " + (run.endedAt ?? "—"))],
            ["git commit", Markdown.escape(run.gitCommit + (run.gitDirty ? " (dirty)" : ""))],
            ["command line", Markdown.escape(run.commandLine)],
            ["spec", Markdown.escape(run.specPath + ", sha256 " + run.specSHA256)],
            ["master seed", "\(run.masterSeed)"],
            ["Swift", Markdown.escape(run.swiftVersion)],
            ["OS / kernel", Markdown.escape(run.os + " / " + run.kernel)],
            ["CPU", Markdown.escape("\(run.cpuModel), \(run.cores) cores, \(Format.fixed(memory, 1)) GiB")],
            ["target", Markdown.escape(run.target)],
            ["CPU steal during the cells (median / max)", steal],
        ]
        return Markdown.table(header: ["provenance", "value"], alignRight: [false, false], rows: rows)
    }

    func chartBlock(_ chart: Chart, slug: String, status: [String: ChartStatus], fromIndex: Bool) -> String {
        let prefix = fromIndex ? slug + "/" : ""
        var out = fromIndex ? "" : "### \(chart.heading)\n\n"
        switch status[slug + "/" + chart.name] ?? .notRendered("not rendered") {
        case .rendered:
            out += "![\(Markdown.escape(chart.caption))](\(prefix)\(chart.name).svg)\n\n"
        case .notRendered(let reason):
            out += "> Chart not rendered: \(Markdown.escape(reason))\n\n"
        }
        out += "\(Markdown.escape(chart.caption)) [PNG](\(prefix)\(chart.name).png) · "
        out += "[gnuplot script](\(prefix)\(chart.name).gp) · [data](\(prefix)\(chart.name).dat); re-render with "
        out += "`gnuplot \(Markdown.codeSafe(displayDirectory))/\(slug)/\(chart.name).gp`.\n"
        return out
    }

    func notRenderedNote(_ status: [String: ChartStatus]) -> String {
        let missing = status.keys.sorted().filter {
            if case .notRendered = status[$0]! { return true }
            return false
        }
        guard !missing.isEmpty else { return "" }
        return "\n**\(missing.count) chart\(missing.count == 1 ? " was" : "s were") not rendered.** The gnuplot "
            + "scripts and data files are written; install gnuplot with `\(Gnuplot.installCommand)` and run "
            + "`swift run report` again.\n"
    }

    func coordinatesText(_ point: PointSummary) -> String {
        point.coordinates.map { axis in
            axis.name == "concurrency" ? "c=\(point.concurrency)" : "\(axis.name)=\(axis.value.display)"
        }.joined(separator: ", ")
    }

    /// An open-loop point's achieved arrival rate and late share, ‡-marked when it missed its nominal load.
    func arrivalColumns(_ point: PointSummary) -> [String] {
        let achieved = point.metrics["achieved_rate"]
        let late = point.metrics["late_share"]
        let missed = LoadCheck.missedOfferedRate(
            achieved: achieved?.median, offered: point.params[.rate]?.number ?? 0, lateShare: late?.median)
        return [
            (achieved.map { Format.estimate($0, Format.rate) } ?? "n/a") + (missed ? " ‡" : ""),
            late.map { Format.percent($0.median) } ?? "n/a",
        ]
    }

    /// "12% / 95% †": the median client and server CPU shares of a point's cells.
    func saturationText(_ point: PointSummary, experiment: ExperimentModel) -> String {
        if point.isSimulated { return "simulated" }
        guard let index = experiment.points.firstIndex(where: { $0.cellKeys == point.cellKeys }) else { return "n/a" }
        let loads = experiment.cells[index].map { Methods.load($0, run: experiment.run) }
        func share(_ values: [Double]) -> String {
            guard !values.isEmpty else { return "n/a" }
            let median = Statistics.median(values)
            return Format.percent(median) + (median >= Methods.saturation ? " †" : "")
        }
        return share(loads.compactMap(\.client)) + " / " + share(loads.compactMap(\.server))
    }

    func speedupText(_ point: PointSummary) -> String {
        if point.engine == EngineName.sync.rawValue { return "baseline" }
        if point.isSimulated { return "simulated" }
        guard let speedup = point.speedup else { return "n/a" }
        return Format.estimate(speedup.ratio, Format.times) + (speedup.significant ? "" : " ~")
    }
}

extension Markdown {
    /// Text for inside a code span: one line, backticks replaced.
    static func codeSafe(_ text: String) -> String {
        GnuplotScript.singleLine(text).replacingOccurrences(of: "`", with: "'")
    }
}
