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

    // MARK: Index

    func index(charts: [String: [Chart]], status: [String: ChartStatus]) -> String {
        var out = "# async-patterns: report\n\n"
        out += "Rendered by `swift run report` from `\(Markdown.escape(databasePath))`: "
        out += "\(model.experiments.count) experiment\(model.experiments.count == 1 ? "" : "s"), "
        out += "\(model.experiments.reduce(0) { $0 + $1.cellCount }) complete cells, \(model.sampleCount) samples. "
        out += "Throughput is the median over repetitions with a 95% bootstrap confidence interval in brackets "
        out += "(with fewer than \(Estimate.minimumForInterval) repetitions no interval is claimed: the range of the "
        out += "runs is shown instead, as `(n = 3, range low–high)`, and no difference can be called significant); "
        out += "latency is coordinated-omission corrected. Re-render with `swift run report --format markdown`; "
        out += "check that this folder matches the database with `swift run report --check`.\n\n"
        out += "## Headline\n\n"
        out += "Each engine's best point over the experiment's grid (highest goodput), its throughput and p99 latency "
        out += "there, and the speed-up against the sync engine at the same settings (~ marks a difference that is "
        out += "not significant).\n\n"
        var rows: [[String]] = []
        for experiment in model.experiments {
            for engine in experiment.engines {
                guard let best = Findings.best(of: engine, in: experiment.points) else { continue }
                rows.append([
                    "[\(Markdown.escape(experiment.name))](\(experiment.slug)/README.md)", Markdown.escape(engine),
                    Markdown.escape(coordinatesText(best)), Format.estimate(best.throughput, Format.rate),
                    Format.ms(best.latency.p99), speedupText(best),
                ])
            }
        }
        out += Markdown.table(
            header: ["experiment", "engine", "at", "best RPS [95% CI / range]", "p99 ms", "speed-up vs sync"],
            alignRight: [false, false, false, true, true, true], rows: rows)
        for experiment in model.experiments {
            out += "\n## [\(Markdown.escape(experiment.name))](\(experiment.slug)/README.md)\n\n"
            if !experiment.spec.question.isEmpty {
                out += "> \(Markdown.escape(experiment.spec.question))\n\n"
            }
            out += targetNote(experiment.run)
            let axes = experiment.varyingAxes
            var rows: [[String]] = []
            for point in experiment.points {
                rows.append(
                    [Markdown.escape(point.engine)]
                        + axes.map { Markdown.escape(point.coordinate($0)?.display ?? "") }
                        + [
                            Format.estimate(point.throughput, Format.rate), Format.ms(point.latency.p50),
                            Format.ms(point.latency.p99), Format.percent(point.errorRate),
                            point.efficiency.map { Format.estimate($0, Format.percent) } ?? "n/a",
                        ])
            }
            out += Markdown.table(
                header: ["engine"] + axes.map(Markdown.escape)
                    + ["RPS [95% CI / range]", "p50 ms", "p99 ms", "error rate", "efficiency [95% CI / range]"],
                alignRight: [false] + axes.map { _ in true } + [true, true, true, true, true], rows: rows)
            out += "\nEfficiency is throughput over the Little's-law bound, concurrency / mean server service time.\n"
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
                "\(run.cores)", "\(run.masterSeed)",
            ])
        }
        out += Markdown.table(
            header: ["experiment", "run", "started (UTC)", "commit", "Swift", "OS", "CPU", "cores", "master seed"],
            alignRight: [false, true, false, false, false, false, false, true, true], rows: provenance)
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
        out += Findings.sentences(for: experiment).map { "- " + $0 + "\n" }.joined() + "\n"
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
        out += "\nThe server's random stream (fault decisions, latency draws) derives from the master seed, the "
        out += "server's parameters and the repetition only, so within a repetition every engine and client-side "
        out += "treatment meets the same faults for the same request and attempt (cells written before schema "
        out += "version 2 seeded the server per cell). The client's stream (backoff jitter, arrivals) derives from "
        out += "each cell's own parameters. The bootstrap resampling is seeded from the cells' keys, so this page is "
        out += "reproducible byte for byte.\n\n"

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
                    ] + (openLoop ? [Format.ms(point.uncorrectedLatency.p99)] : []))
        }
        out += Markdown.table(
            header: ["engine"] + axes.map(Markdown.escape) + [
                "reps", "RPS [95% CI / range]", "goodput [95% CI / range]", "speed-up vs sync", "p50 ms", "p90 ms",
                "p99 ms",
                "p99.9 ms", "max ms",
            ] + (openLoop ? ["p99 uncorrected ms"] : []),
            alignRight: [false] + axes.map { _ in true } + Array(repeating: true, count: openLoop ? 10 : 9), rows: rows)
        out += "\nRPS: final requests per second over the measured span (first intended send to last end, warm-up "
        out += "excluded). Latency: from the first attempt's intended send to the final attempt's end, from an "
        out += "HdrHistogram of all repetitions pooled"
        out +=
            openLoop
            ? " (the uncorrected p99 runs from the actual send, as tools without wrk2's correction report)" : ""
        out += ". Speed-up: ratio of median throughputs against sync at the "
        out +=
            "same settings, 95% bootstrap CI (with fewer than \(Estimate.minimumForInterval) repetitions, the extreme "
        out += "ratios the runs allow); ~ means a Mann-Whitney U test finds no significant difference (p ≥ 0.05), "
        out += "which with 3 repetitions a side it can never find.\n\n"

        out += "## Errors, retries and resources\n\n"
        rows = []
        for point in experiment.points {
            rows.append(
                [Markdown.escape(point.engine)] + axes.map { Markdown.escape(point.coordinate($0)?.display ?? "") }
                    + [
                        Format.percent(point.errorRate), Format.fixed(point.attemptsPerRequest, 3),
                        point.amplification.map { Format.fixed($0, 3) } ?? "n/a",
                        point.efficiency.map { Format.estimate($0, Format.percent) } ?? "n/a",
                        point.serviceMeanNs.map(Format.ms) ?? "n/a", point.cpuSeconds.map(Format.significant) ?? "n/a",
                        point.peakRSSBytes.map(Format.mebibytes) ?? "n/a", Format.ms(point.attemptLatency.p99),
                        Markdown.escape(point.finalClasses.map { "\($0.label) \($0.count)" }.joined(separator: ", ")),
                    ])
        }
        out += Markdown.table(
            header: ["engine"] + axes.map(Markdown.escape) + [
                "error rate", "attempts/request", "amplification", "efficiency [95% CI / range]", "service ms", "CPU s",
                "peak RSS MiB", "attempt p99 ms", "final outcomes",
            ],
            alignRight: [false] + axes.map { _ in true } + Array(repeating: true, count: 8) + [false], rows: rows)
        out += "\nError rate: 1 − successes / final outcomes. Attempts/request: attempts actually sent (not "
        out += "rejected by a breaker, budget or throttle) per logical request. Amplification: requests the server "
        out += "counted per logical request, warm-up included on both sides. Efficiency: throughput over the "
        out += "Little's-law bound, concurrency / mean server service time. CPU and RSS are the client's, medians "
        out += "over repetitions.\n"

        if !charts.isEmpty {
            out += "\n## Charts\n"
            for chart in charts {
                out += "\n" + chartBlock(chart, slug: experiment.slug, status: status, fromIndex: false)
            }
        }
        out += "\n## Provenance\n\n"
        out += provenanceTable(experiment.run)
        out += notRenderedNote(status.filter { $0.key.hasPrefix(experiment.slug + "/") })
        return out
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

    func provenanceTable(_ run: RunRecord) -> String {
        let memory = Double(run.memoryBytes) / 1_073_741_824
        let rows: [[String]] = [
            ["run", "#\(run.id), \(Markdown.escape(run.status))"],
            ["started / ended (UTC)", Markdown.escape(run.startedAt + " / " + (run.endedAt ?? "—"))],
            ["git commit", Markdown.escape(run.gitCommit + (run.gitDirty ? " (dirty)" : ""))],
            ["command line", Markdown.escape(run.commandLine)],
            ["spec", Markdown.escape(run.specPath + ", sha256 " + run.specSHA256)],
            ["master seed", "\(run.masterSeed)"],
            ["Swift", Markdown.escape(run.swiftVersion)],
            ["OS / kernel", Markdown.escape(run.os + " / " + run.kernel)],
            ["CPU", Markdown.escape("\(run.cpuModel), \(run.cores) cores, \(Format.fixed(memory, 1)) GiB")],
            ["target", Markdown.escape(run.target)],
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

    func speedupText(_ point: PointSummary) -> String {
        if point.engine == "sync" { return "baseline" }
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
