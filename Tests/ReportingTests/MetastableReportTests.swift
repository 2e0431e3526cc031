import AsyncPatterns
import Foundation
import LabStore
import Testing

@testable import Reporting

/// The `metastable-recovery` analysis, the `recovery_s` and `wasted_share` metrics and the goodput chart, on a
/// small constructed database: two treatments, live (`async`) and simulated (`sim`), two repetitions each.
@Suite("Metastable recovery")
struct MetastableReportTests {
    /// Arrivals every 5 ms (200/s) for 10 s, each request served in 10 ms; the server's trigger runs from 4 s to
    /// 5 s. Without retries (`backoff` off) every request ending from 4 s to 5.25 s times out and every other
    /// succeeds: goodput is back at 90% of 200/s in the 1 s window ending at 6.2 s, so the recovery time is 1.2 s
    /// (1.15 s with a window sliding continuously). With retries (`backoff` full) 4 in 5 requests ending after 4 s
    /// fail after a retry: goodput stays at 40/s, collapsed. The server wasted 5% of its requests without retries
    /// and 60% with them.
    static let triggerStartNs: Int64 = 4_000_000_000
    static let triggerEndNs: Int64 = 5_000_000_000
    static let recoveredNs: Int64 = 5_250_000_000
    static let expectedRecoverySeconds = 1.2

    static func writeDatabase(path: String) throws {
        let store = try LabStore.openForWriting(path: path)
        let answer =
            #"{"metrics":["recovery_s","goodput","wasted_share"],"compare":"engine","#
            + #""analyses":["metastable-recovery"]}"#
        let spec = """
            {"name":"metastable","question":"Which patterns recover after a trigger?","engines":["async","sim"],
            "axes":{"backoff":["off","full"]},"fixed":{"load":"poisson","rate":200},"requests":2000,
            "repetitions":2,"seed":1,"answer":\(answer)}
            """
        let runID = try store.insertRun(
            RunRecord.constructed("metastable", spec: spec))
        for engine in ["async", "sim"] {
            for backoff in ["off", "full"] {
                for repetition in 0..<2 {
                    try writeCell(store: store, runID: runID, engine: engine, backoff: backoff, repetition: repetition)
                }
            }
        }
        try store.finishRun(id: runID, status: .complete, endedAt: "2026-01-01T00:01:00Z")
    }

    static func writeCell(store: LabStore, runID: Int64, engine: String, backoff: String, repetition: Int) throws {
        let params =
            #"{"backoff":"\#(backoff)","breaker":"off","budget":"none","concurrency":1024,"engine":"\#(engine)","#
            + #""load":"poisson","rate":200,"throttle":"off"}"#
        var cell = CellRecord(
            cellKey: "\(engine)-\(backoff)-\(repetition)", runID: runID, experiment: "metastable", engine: engine,
            concurrency: 1024, repetition: repetition, params: params, seed: 1, status: .running,
            plannedRequests: 2000, warmupRequests: 0, startedAt: "2026-01-01T00:00:00Z")
        cell.id = try store.insertCell(cell)
        let retries = backoff != "off"
        var samples: [AttemptSample] = []
        var served: Int64 = 0
        for request in 0..<2000 {
            let intended = Int64(request) * 5_000_000
            let end = intended + 10_000_000
            let fails =
                retries ? end >= triggerStartNs && request % 5 != 0 : end >= triggerStartNs && end < recoveredNs
            if fails && retries {
                samples.append(
                    AttemptSample(
                        requestID: Int64(request), attempt: 1, intendedNs: intended, startNs: intended, endNs: end,
                        status: 0, errorClass: .timeout, bytes: 0, isFinal: false, isWarmup: false))
                served += 1
            }
            samples.append(
                AttemptSample(
                    requestID: Int64(request), attempt: fails && retries ? 2 : 1, intendedNs: intended,
                    startNs: intended, endNs: end, status: fails ? 0 : 200, errorClass: fails ? .timeout : .ok,
                    bytes: fails ? 0 : 256, isFinal: true, isWarmup: false))
            served += 1
        }
        try store.insertSamples(samples, cellID: cell.id)
        try store.insertEvents(
            [
                EventRecord(tNs: 0, kind: .injectedErrorRate, value: 0, detail: "before"),
                EventRecord(tNs: triggerStartNs, kind: .injectedErrorRate, value: 0, detail: "trigger"),
                EventRecord(tNs: triggerEndNs, kind: .injectedErrorRate, value: 0, detail: "after"),
            ], cellID: cell.id)
        let wasted = Double(served) * (retries ? 0.6 : 0.05)
        cell.status = .complete
        cell.elapsedNs = 10_010_000_000
        cell.server = ServerFigures(
            requests: served, connections: 1, serviceMeanNs: 10_000_000, serviceP99Ns: 10_000_000,
            countersJSON: #"{"peakInFlight":0,"requests":\#(served),"wasted":\#(Int(wasted))}"#)
        try store.completeCell(cell)
    }

    static func experiment() throws -> ExperimentModel {
        let folder = try TestSupport.temporaryFolder("metastable")
        defer { TestSupport.cleanUp(folder) }
        let path = folder.appendingPathComponent("lab.sqlite").path
        try writeDatabase(path: path)
        let model = try ModelBuilder.build(store: try LabStore.openForReading(path: path), bootstrapResamples: 200)
        return try #require(model.experiments.first)
    }

    /// A cell's recovery around this database's trigger, its offered load ending at 10 s.
    static func recovery(before: Double, tail: Double, seconds: Double) -> CellStatistics.Recovery {
        CellStatistics.Recovery(
            triggerStartNs: triggerStartNs, triggerEndNs: triggerEndNs, before: before, tail: tail,
            loadEndNs: 10_000_000_000, seconds: seconds)
    }

    /// The per-cell value of `id` for every cell of the points with `backoff`.
    static func values(_ experiment: ExperimentModel, _ id: String, backoff: String) throws -> [Double] {
        let metric = try #require(Metric.named(id))
        return experiment.points.indices.filter { experiment.points[$0].params[.backoff]?.description == backoff }
            .flatMap { index in
                experiment.cells[index].compactMap { metric.value($0, experiment.events[$0.cell.id] ?? []) }
            }
    }

    @Test(.timeLimit(.minutes(1)))
    func recoveryMetricMeasuresTheConstructedRecoveryAndNaNWhenCollapsed() throws {
        let experiment = try Self.experiment()
        let recovered = try Self.values(experiment, "recovery_s", backoff: "off")
        #expect(recovered.count == 4)
        for value in recovered {
            #expect(abs(value - Self.expectedRecoverySeconds) <= 0.1, "recovery \(value) s")
        }
        let collapsed = try Self.values(experiment, "recovery_s", backoff: "full")
        #expect(collapsed.count == 4)
        #expect(collapsed.allSatisfy { $0.isNaN })
        let wasted = try Self.values(experiment, "wasted_share", backoff: "full")
        #expect(wasted.count == 4)
        #expect(wasted.allSatisfy { abs($0 - 0.6) < 0.001 })
        #expect(try Self.values(experiment, "wasted_share", backoff: "off").allSatisfy { abs($0 - 0.05) < 0.001 })
        // A cell without a trigger phase cannot give a recovery time.
        let cell = try #require(experiment.cells.first?.first)
        #expect(cell.recovery(events: []) == nil)
        #expect(CellStatistics.trigger([EventRecord(tNs: 0, kind: .injectedErrorRate, detail: "trigger")]) == nil)
    }

    @Test(.timeLimit(.minutes(1)))
    func tableHasOneRowPerTreatmentAndEngine() throws {
        let experiment = try Self.experiment()
        let view = AnswerView(experiment: experiment, answer: experiment.answer)
        let output = Analyses.output("metastable-recovery", view)
        #expect(output.section.hasPrefix("## Recovery after the trigger\n"))
        #expect(output.section.contains("from 4.00 s to 5.00 s after the cell started"))
        let lines = output.section.split(separator: "\n").filter { $0.hasPrefix("| ") }
        let rows = lines.dropFirst().map { line in
            line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        #expect(
            rows.map { $0[0] + " / " + $0[1] } == [
                "no retries / async (live)", "no retries / sim (simulated)", "retries / async (live)",
                "retries / sim (simulated)",
            ])
        let live = try #require(rows.first)
        // Repetitions, recovered, recovery time, goodput before, goodput in the last 2 s, collapsed, collapsed before
        // the trigger, wasted work.
        #expect(Array(live[2...]) == ["2", "2", "1.20", "200", "200", "0", "0", "5.00%"])
        let collapsed = rows[2]
        #expect(Array(collapsed[2...]) == ["2", "0", "—", "200", "40.0", "2", "0", "60.0%"])
    }

    @Test(.timeLimit(.minutes(1)))
    func findingsSayWhichRecoveredAndWhichStayedCollapsed() throws {
        let experiment = try Self.experiment()
        let view = AnswerView(experiment: experiment, answer: experiment.answer)
        let findings = Analyses.output("metastable-recovery", view).findings
        #expect(findings.count == 2)
        let none = try #require(findings.first { $0.hasPrefix("**no retries**") })
        #expect(none.contains("async (live) recovered in 2 of 2 repetitions, 1.20 s after the trigger ended"))
        #expect(none.contains("live and sim agree (recovered)"))
        let retries = try #require(findings.first { $0.hasPrefix("**retries**") })
        #expect(retries.contains("stayed collapsed in 2 of 2 repetitions"))
        #expect(retries.contains("sustaining effect: retries (1.48 attempts sent per request) and wasted work (60.0%"))
        #expect(retries.contains("live and sim agree (stayed collapsed)"))
        // The page carries the section and the findings.
        let page = ConstructedRun.page(experiment)
        #expect(page.contains("## Recovery after the trigger"))
        #expect(page.contains("- **retries**: async (live) stayed collapsed"))
    }

    @Test(.timeLimit(.minutes(1)))
    func withoutGoodputBeforeTheTriggerThereIsNothingToRecoverTo() throws {
        let experiment = try Self.experiment()
        let dead = Self.recovery(before: 0, tail: 0, seconds: .nan)
        #expect(!dead.recovered && !dead.collapsed && !dead.hasLevel)
        let cells = experiment.cells[0]
        let row = Analyses.RecoveryRow(
            treatment: "no retries", order: [0], index: 0, point: experiment.points[0], repetitions: 2,
            measured: cells.map { .init(cell: $0, recovery: dead, steal: nil) }, wasted: [])
        #expect(row.outcome == .noLevel)
        let finding = Analyses.recoveryFinding("no retries", [row])
        #expect(finding.contains("had no goodput before the trigger in most repetitions"))
        #expect(row.typical == nil)
        // Treatments are ordered by how many patterns are on, then budget, breaker, throttle.
        var params = experiment.points[0].params
        params[.backoff] = .string("full")
        params[.throttle] = .string("k:2")
        let throttle = Analyses.patternOrder(params)
        params[.throttle] = .string("off")
        params[.budget] = .string("token:10")
        #expect(Analyses.patternOrder(params).lexicographicallyPrecedes(throttle))
        #expect(Analyses.patternLabel(params, in: experiment) == "retries + budget token:10")
    }

    /// Repetitions that collapsed before the trigger (a busy host, say), with no goodput before it or less than
    /// half the others', count as neither; the finding names them with the CPU steal they met, and the charts draw
    /// a typical repetition instead.
    @Test(.timeLimit(.minutes(1)))
    func repetitionsThatCollapsedBeforeTheTriggerAreNamedWithTheirStealAndNotDrawn() throws {
        let experiment = try Self.experiment()
        let cells = try #require(experiment.cells.first { $0.count == 2 })
        let recoveries = [
            Self.recovery(before: 0, tail: 0, seconds: .nan), Self.recovery(before: 80, tail: 0, seconds: 2.0),
            Self.recovery(before: 200, tail: 190, seconds: 1.5), Self.recovery(before: 200, tail: 195, seconds: 0.9),
            Self.recovery(before: 200, tail: 50, seconds: 3.0),
        ]
        let row = Analyses.RecoveryRow(
            treatment: "retries", order: [1, 0], index: 0, point: experiment.points[0], repetitions: 5,
            measured: zip(
                [cells[0], cells[1], cells[1], cells[0], cells[1]], zip(recoveries, [0.30, 0.25, 0.01, 0.02, 0.03])
            )
            .map { .init(cell: $0, recovery: $1.0, steal: $1.1) }, wasted: [])
        #expect(row.earlyCollapses == [0, 1])
        #expect(row.recoveredCount == 3 && row.collapsedCount == 1)
        #expect(row.outcome == .recovered)
        // Of the three that recovered after the trigger, the median recovery time (1.5 s) is the third one's.
        #expect(row.typical?.cell.id == cells[1].cell.id)
        #expect(row.recoverySeconds.sorted() == [0.9, 1.5, 3.0])
        let finding = Analyses.recoveryFinding("retries", [row])
        #expect(finding.contains("recovered in 3 of 5 repetitions"))
        #expect(
            finding.contains(
                "2 of 5 async (live) repetitions collapsed before the trigger (goodput from 1 s to the trigger's "
                    + "start below half the others'), so they count as neither recovered nor collapsed; the machine's "
                    + "CPU steal over those cells was 27.5% (25.0%–30.0%), against 2.00% (1.00%–3.00%) over the "
                    + "others: the host taking the client's CPU away likely acted as a trigger of its own"),
            "\(finding)")
        // Steal no higher than the others': the numbers, and no claim.
        var calm = row
        for (index, steal) in [0.01, 0.02, 0.01, 0.02, 0.03].enumerated() { calm.measured[index].steal = steal }
        let calmFinding = Analyses.recoveryFinding("retries", [calm])
        #expect(calmFinding.contains("over the others."), "\(calmFinding)")
        #expect(!calmFinding.contains("trigger of its own"))
        // Without steal figures the clause stops at the count.
        var unmeasured = row
        for index in unmeasured.measured.indices { unmeasured.measured[index].steal = nil }
        #expect(Analyses.recoveryFinding("retries", [unmeasured]).contains("nor collapsed."))
    }

    @Test(.timeLimit(.minutes(1)))
    func goodputChartHasOneLinePerTreatmentAndPanelPerEngine() throws {
        let experiment = try Self.experiment()
        let chart = try #require(ChartPlanner.charts(for: experiment).first { $0.name == "goodput" })
        #expect(chart.panels.map(\.title) == ["async (live)", "sim (simulated)"])
        for panel in chart.panels {
            #expect(panel.series.map(\.title) == ["no retries, rep 0", "retries, rep 0", "trigger (4.00–5.00 s)"])
        }
        let script = GnuplotScript.script(for: chart, displayPath: "goodput.gp")
        #expect(script.contains("title 'no retries, rep 0'"))
        #expect(script.contains("title 'retries, rep 0'"))
        #expect(chart.caption.contains("Each line is the treatment's typical repetition"))
        #expect(script.contains("title 'trigger (4.00–5.00 s)'"))
        // Smoothed goodput: 200/s before the trigger, 40/s at the end with retries.
        let noRetries = chart.panels[0].series[0].points
        let retries = chart.panels[0].series[1].points
        #expect(abs((noRetries.first { abs($0.x - 2.05) < 1e-9 }?.y ?? 0) - 200) < 1e-6)
        #expect(abs((retries.first { abs($0.x - 8.05) < 1e-9 }?.y ?? 0) - 40) < 1e-6)
        // No chart for an experiment that does not ask for the analysis.
        var other = experiment
        other.spec.answer?.analyses = []
        #expect(ChartPlanner.goodputChart(other) == nil)
    }

    /// The treatment chart puts the treatments, named as the tables name them, on one categorical axis, one series
    /// per engine, instead of joining unrelated treatments that happen to share the budget, breaker and throttle.
    @Test(.timeLimit(.minutes(1)))
    func treatmentChartHasTheTreatmentsOnItsAxis() throws {
        let experiment = try Self.experiment()
        let chart = try #require(ChartPlanner.charts(for: experiment).first { $0.name == "treatment" })
        #expect(!ChartPlanner.charts(for: experiment).contains { $0.name == "backoff" })
        // Recovery time is 1.2 s wherever it is defined here, a flat line, so it is left out.
        #expect(chart.panels.map(\.title) == ["goodput", "wasted work"])
        for panel in chart.panels {
            #expect(panel.categoricalX)
            #expect(panel.xTics?.map(\.label) == ["no retries", "retries"])
            #expect(panel.series.map(\.title) == ["async", "sim"])
        }
        // A plain spec keeps its own axes.
        var other = experiment
        other.spec.answer?.analyses = []
        #expect(ChartPlanner.byPattern(other) == nil)
        // Long treatment names break before each "+" on the axis.
        #expect(GnuplotScript.quoteTic("retries + budget token:10") == "'retries'.\"\\n\".'+ budget token:10'")
        #expect(GnuplotScript.quoteTic("no retries") == "'no retries'")
    }

    @Test(.timeLimit(.minutes(1)))
    func theQuestionsFindingsTableAndChartsCompareTheNamedTreatments() throws {
        let experiment = try Self.experiment()
        let page = ConstructedRun.page(experiment)
        #expect(page.contains("| context | treatment | reps |"), "\(page)")
        let noRetries = try #require(page.range(of: "| async | no retries | 2 |"))
        let retries = try #require(page.range(of: "| async | retries | 2 |"))
        #expect(noRetries.lowerBound < retries.lowerBound)
        #expect(page.contains("- **Goodput** (async), highest first: no retries 175, retries 104."), "\(page)")
        // Points keep the treatments' order whatever order they came in, each with its own cells.
        var reversed = experiment
        reversed.points.reverse()
        reversed.cells.reverse()
        reversed.histograms.reverse()
        let byPattern = try #require(ChartPlanner.byPattern(reversed))
        #expect(
            byPattern.points.map { $0.coordinate("treatment")?.display } == [
                "no retries", "no retries", "retries", "retries",
            ])
        for (point, cells) in zip(byPattern.points, byPattern.cells) {
            #expect(cells.allSatisfy { $0.cell.engine == point.engine && $0.params == point.params })
        }
        // A treatment no engine recovered from gets a cross on the recovery-time axis: here "retries" (x = 1).
        let pattern = try #require(ChartPlanner.byPattern(experiment))
        let recovery = Chart(
            name: "t", title: "t", heading: "t", caption: "t",
            panels: [ChartPanel(xLabel: "treatment", yLabel: "s", categoricalX: true, series: [], metric: "recovery_s")]
        )
        let marked = ChartPlanner.withUnrecovered(recovery, pattern, axis: ChartPlanner.patternAxis)
        #expect(marked.panels[0].series.map(\.title) == ["no recovery time"])
        #expect(marked.panels[0].series.first?.points.map(\.x) == [1])
        #expect(marked.caption.hasSuffix("mark the treatments with no recovery time on any engine."))
        // Goodput over time comes first (the index shows it); throughput is drawn per treatment.
        let charts = ChartPlanner.charts(for: experiment)
        #expect(charts.first?.name == "goodput")
        let throughput = try #require(charts.first { $0.name == "throughput" })
        #expect(throughput.panels.allSatisfy { $0.xTics?.map(\.label) == ["no retries", "retries"] })
    }

    /// The breaker timeline draws the injected error rate under the breaker's state only when the rate changed; a
    /// rate that stayed the same (metastable's trigger is a capacity drop, not errors) is named in the caption.
    @Test(.timeLimit(.minutes(1)))
    func theBreakerChartDrawsTheInjectedErrorRateOnlyWhenItChanges() throws {
        var experiment = try Self.experiment()
        let cell = try #require(experiment.cells.first?.first).cell.id
        let transitions = [
            EventRecord(tNs: Self.triggerStartNs, kind: .breakerTransition, detail: "closed->open"),
            EventRecord(tNs: Self.recoveredNs, kind: .breakerTransition, detail: "open->closed"),
        ]
        experiment.events[cell, default: []] += transitions
        let flat = try #require(ChartPlanner.breakerChart(experiment))
        #expect(flat.panels.map(\.title) == ["breaker state"])
        #expect(flat.caption.contains("The server's injected error rate was 0.0% throughout, so it is not drawn."))
        // The trigger phase of the cell's schedule, as on the goodput chart: a bracket from 4 s to 5 s.
        let bracket = try #require(flat.panels[0].series.first { $0.title.hasPrefix("trigger") })
        #expect(bracket.title == "trigger (4.00–5.00 s)")
        #expect(bracket.points.map(\.x) == [4, 4, 5])
        #expect(flat.caption.contains("The grey bracket marks the server's trigger phase"))

        experiment.events[cell] =
            [
                EventRecord(tNs: 0, kind: .injectedErrorRate, value: 0),
                EventRecord(tNs: Self.triggerStartNs, kind: .injectedErrorRate, value: 0.5),
            ] + transitions
        let stepped = try #require(ChartPlanner.breakerChart(experiment))
        #expect(stepped.panels.map(\.title) == ["breaker state", "injected error rate"])
        #expect(!stepped.caption.contains("throughout"))
        // No phase named "trigger" in this schedule: no bracket.
        #expect(!stepped.panels[0].series.contains { $0.title.hasPrefix("trigger") })
        #expect(!stepped.caption.contains("bracket"))
    }

    /// The breaker timeline draws each engine's typical cell, one with the median number of transitions, not the
    /// one with the most (an outlier, such as a cell that collapsed twice on a busy host).
    @Test(.timeLimit(.minutes(1)))
    func theBreakerChartDrawsTheCellWithTheMedianNumberOfTransitions() throws {
        var experiment = try Self.experiment()
        let asyncCells = experiment.points.indices.filter { experiment.points[$0].engine == "async" }.flatMap {
            experiment.cells[$0].map(\.cell.id)
        }
        try #require(asyncCells.count >= 3)
        // Transitions at a time of its own per cell: 2, 6 and 4 of them.
        for (cell, (count, atNs)) in zip(asyncCells, [(2, 1_100_000_000), (6, 2_200_000_000), (4, 3_300_000_000)]) {
            experiment.events[cell, default: []] += (0..<count).map { index in
                EventRecord(
                    tNs: Int64(atNs) + Int64(index) * 1_000_000, kind: .breakerTransition,
                    detail: index % 2 == 0 ? "closed->open" : "open->closed")
            }
        }
        let chart = try #require(ChartPlanner.breakerChart(experiment))
        let async = try #require(chart.panels[0].series.first { $0.title.hasPrefix("async") })
        #expect(async.points.map(\.x).contains(3.3))
        #expect(!async.points.map(\.x).contains(2.2))
        #expect(
            chart.caption.contains("for each engine's typical cell: of its cells with transitions, one with the median")
        )
    }

    /// A chart that draws some points (the resources chart leaves the simulation out) names its series by what
    /// varies among those points only.
    @Test(.timeLimit(.minutes(1)))
    func seriesOfSomePointsAreNamedByWhatVariesAmongThem() throws {
        let experiment = try Self.experiment()
        #expect(!ChartPlanner.constantAxes(experiment).contains("backoff"))
        let isOff: (PointSummary) -> Bool = { $0.params[.backoff]?.description == "off" }
        #expect(ChartPlanner.constantAxes(experiment, among: experiment.points.filter(isOff)).contains("backoff"))
        let all = ChartPlanner.groups(experiment, xAxis: "concurrency")
        #expect(all.contains { $0.title.contains("backoff=off") })
        let off = ChartPlanner.groups(experiment, xAxis: "concurrency", include: isOff)
        #expect(!off.isEmpty && off.allSatisfy { !$0.title.contains("backoff") }, "\(off.map(\.title))")
    }

    /// A treatment that neither recovered nor collapsed (goodput above half its level, never back to 90%) is
    /// called degraded, with its goodput at the end against its level before the trigger.
    @Test(.timeLimit(.minutes(1)))
    func aDegradedTreatmentGivesItsGoodputAgainstItsLevel() throws {
        var row = try #require(Analyses.recoveryRows(try Self.experiment()).first)
        for index in row.measured.indices {
            row.measured[index].recovery.before = 500
            row.measured[index].recovery.tail = 400
            row.measured[index].recovery.seconds = .nan
        }
        #expect(row.outcome == .neither)
        let finding = Analyses.recoveryFinding("throttle", [row])
        #expect(finding.contains("goodput over the last 2 s 400 req/s against 500 before the trigger: degraded"))
    }
}
