import Foundation
import LabStore
import ReportingSynthetic
import Testing

@testable import Reporting

/// Pages of experiments that ran the discrete-event simulation (engine `sim`) beside a live engine: the
/// "Simulation vs live" section, the labels of sim rows in the other tables, and the sim lines of the backoff chart.
@Suite("Simulation vs live")
struct SimulationReportTests {
    /// A contention sweep: async at concurrency 4, sim at 4 and 8 (the simulated sweep goes further), backoff none
    /// and full, five repetitions, answered by server calls. Server calls are set by hand: async makes 100–104 calls
    /// with no backoff and 50–54 with full jitter; sim makes 102 and 80, so the first agrees and the second does not.
    static func experiment() throws -> ExperimentModel {
        let configuration = SyntheticLab.Configuration(
            name: "contention", engines: ["sim", "async"], concurrencies: [4, 8], backoffs: ["none", "full"],
            requests: 20, warmup: 0, repetitions: 5, events: false)
        return try TestSupport.syntheticExperiment(configuration) { database in
            let answer = #"{"metrics":["server_calls"],"compare":"backoff","by":"concurrency"}"#
            try database.execute("UPDATE runs SET spec_text = json_set(spec_text, '$.answer', json('\(answer)'))")
            try database.execute(
                "DELETE FROM samples WHERE cell_id IN (SELECT id FROM cells WHERE engine = 'async' AND concurrency = 8)"
            )
            try database.execute("DELETE FROM cells WHERE engine = 'async' AND concurrency = 8")
            // The simulation has no process: no CPU, memory or server-process figures; its server counted nothing
            // in service (a live cell with these counters would be flagged as short of its concurrency).
            try database.execute(
                """
                UPDATE cells SET cpu_user_s = NULL, cpu_sys_s = NULL, peak_rss_bytes = NULL, ctx_voluntary = NULL,
                ctx_involuntary = NULL, server_counters = '{"peakInFlight":0}' WHERE engine = 'sim'
                """)
            try database.execute(
                """
                UPDATE cells SET server_requests = CASE json_extract(params, '$.backoff')
                WHEN 'none' THEN 100 + repetition ELSE 50 + repetition END WHERE engine = 'async'
                """)
            try database.execute(
                """
                UPDATE cells SET server_requests = CASE json_extract(params, '$.backoff')
                WHEN 'none' THEN 102 ELSE 80 END WHERE engine = 'sim'
                """)
            // A speed probe on the live cells only, as the runner writes it.
            try database.execute(
                """
                INSERT INTO events (cell_id, t_ns, kind, value, detail)
                SELECT id, 0, 'speed_probe_ns', 3000000 + 10000 * repetition, 'before the client' FROM cells
                WHERE engine = 'async'
                """)
        }
    }

    /// The table row that starts with `prefix`, split into its cells.
    static func row(_ text: String, startingWith prefix: String) -> [String]? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
        return line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    @Test(.timeLimit(.minutes(1)))
    func simulationIsOrderedLast() throws {
        #expect(ModelBuilder.engineOrder(spec: ["sim", "async"], present: ["sim", "async"]) == ["async", "sim"])
        #expect(
            ModelBuilder.engineOrder(spec: [], present: ["sim", "async", "sync", "threaded"])
                == ["sync", "threaded", "async", "sim"])
        let experiment = try Self.experiment()
        #expect(experiment.engines == ["async", "sim"])
    }

    @Test(.timeLimit(.minutes(1)))
    func comparisonRowsSayWhetherTheLiveIntervalContainsTheSimulation() throws {
        let experiment = try Self.experiment()
        let rows = SimulationComparison.rows(experiment)
        // Two backoffs at concurrency 4 are measured both ways; concurrency 8 is the simulation's alone.
        #expect(rows.count == 2)
        #expect(rows.allSatisfy { $0.sim.concurrency == 4 && $0.metric.id == "server_calls" })
        #expect(SimulationComparison.simOnly(experiment).map(\.concurrency) == [8, 8])

        let section = SimulationComparison.section(experiment)
        #expect(section.hasPrefix("## Simulation vs live\n"))
        let header = try #require(Self.row(section, startingWith: "| metric"))
        #expect(
            header == [
                "metric", "concurrency", "backoff", "sim [CI / range]", "async [CI / range]",
                "async contains sim",
            ])
        // Figures right (the numeric axis, the estimates), words left (the metric, backoff's names, yes/no).
        #expect(section.contains("\n|---|---:|---|---:|---:|---|\n"), "\(section)")
        let none = try #require(Self.row(section, startingWith: "| server calls | 4 | none |"))
        #expect(none[3] == "102")
        #expect(none[4].hasPrefix("102 ["))
        #expect(none[5] == "yes")
        let full = try #require(Self.row(section, startingWith: "| server calls | 4 | full |"))
        #expect(full[3] == "80")
        #expect(full[4].hasPrefix("52 ["))
        #expect(full[5] == "no (+28, +53.8%)")
        #expect(Self.row(section, startingWith: "| server calls | 8 |") == nil)

        let finding = try #require(SimulationComparison.finding(experiment))
        #expect(finding.contains("in 1 of 2 comparisons the live interval contains the simulated median"))
        #expect(finding.contains("server calls at concurrency 4, backoff full (sim 80 against async 52 ["))
        #expect(finding.contains("+28, +53.8%"))
        #expect(!finding.contains("more the simulated median is within"), "no comparison is merely near")
        #expect(section.contains("the same server seed, so the fault decisions are the same per (request id, attempt)"))
        #expect(section.contains("a possible cause is what the model leaves out"))
        #expect(section.contains("the network and the client's own time per request (the simulation adds only"))
        #expect(section.contains("2 simulated points have no live counterpart"))
    }

    @Test("a simulated median within 5% of the live one agrees even where the live interval excludes it")
    func equivalenceMargin() throws {
        let experiment = try Self.experiment()
        var row = try #require(SimulationComparison.rows(experiment).first)
        let tight = SimulationComparison.Live(
            engine: "async", estimate: Estimate(median: 100, low: 99.9, high: 100.1, samples: []))
        row.simEstimate = Estimate(median: 103, low: 103, high: 103, samples: [])
        #expect(!tight.contains(103) && tight.isNear(103) && tight.agrees(103))
        #expect(SimulationComparison.agreementText(row, tight) == "no, within 5%")
        #expect(!tight.agrees(106))
        row.simEstimate = Estimate(median: 106, low: 106, high: 106, samples: [])
        #expect(SimulationComparison.agreementText(row, tight) == "no (+6, +6.00%)")
        #expect(
            SimulationComparison.agreementText(
                row,
                SimulationComparison.Live(
                    engine: "async", estimate: Estimate(median: 100, low: 90, high: 110, samples: []))) == "yes")
    }

    @Test(.timeLimit(.minutes(1)))
    func pageLabelsSimulatedRowsAndFlagsNothingMissing() throws {
        let experiment = try Self.experiment()
        let page = ConstructedRun.page(experiment)
        #expect(page.contains("## Simulation vs live"))
        #expect(page.contains("- **Simulation vs live**: in 1 of 2 comparisons"))
        // Throughput table: no speed-up or CPU for sim, and no saturation mark.
        for sim in page.split(separator: "\n").filter({ $0.hasPrefix("| sim |") && $0.contains("RPS") == false }) {
            #expect(!sim.contains("†"))
            #expect(!sim.contains("§"))
        }
        let throughputRow = try #require(Self.row(page, startingWith: "| sim | 4 | none | 5 |"))
        #expect(throughputRow.last == "simulated")
        #expect(throughputRow.contains("simulated"))
        // Errors table: the simulated server opened no connections, and the simulation has no CPU or memory.
        let errors = try #require(Self.row(page, startingWith: "| sim | 4 | none | 0.0% |"))
        #expect(errors[6] == "simulated")
        #expect(errors.filter { $0 == "simulated" }.count == 4)
        // Achieved concurrency: the simulated server's in-service figures are not the mock server's.
        let achieved = try #require(Self.row(page, startingWith: "| sim | none | 4 |"))
        #expect(Array(achieved.suffix(2)) == ["simulated", "simulated"])
        // The sim cells' server peak of 0 would mark a live point as short of its concurrency; not the simulation.
        #expect(experiment.points.filter(\.isSimulated).allSatisfy { !LoadCheck.missed($0) })
        // Machine speed: the live points only.
        let speed = MachineSpeed.rows(experiment)
        #expect(!speed.isEmpty)
        #expect(speed.allSatisfy { !$0.point.isSimulated })
        #expect(page.contains("- **Simulation.** 20 cells ran the discrete-event simulation"))
    }

    @Test(.timeLimit(.minutes(1)))
    func backoffChartDrawsTheSimulatedLines() throws {
        let experiment = try Self.experiment()
        let chart = try #require(ChartPlanner.charts(for: experiment).first { $0.name == "backoff" })
        let script = GnuplotScript.script(for: chart, displayPath: "backoff.gp")
        for backoff in ["none", "full"] {
            #expect(script.contains("title 'sim, backoff=\(backoff)'"), "sim line for \(backoff)")
            #expect(script.contains("title 'async, backoff=\(backoff)'"), "live line for \(backoff)")
        }
        // The simulation's lines are dashed, with open markers, in the colour of the live line with the same
        // backoff (filled markers), so they differ even where no line joins the points.
        let lines = script.split(separator: "\n")
        for backoff in ["none", "full"] {
            let live = try #require(lines.first { $0.contains("title 'async, backoff=\(backoff)'") })
            let sim = try #require(lines.first { $0.contains("title 'sim, backoff=\(backoff)'") })
            let colour = { (line: Substring) in line.range(of: "lc rgb '#[0-9a-f]{6}'", options: .regularExpression) }
            let liveColour = try #require(colour(live).map { live[$0] })
            let simColour = try #require(colour(sim).map { sim[$0] })
            #expect(liveColour == simColour)
            #expect(sim.contains("dt 2"))
            #expect(live.contains("dt 1"))
            let pointType = { (line: Substring) in
                line.range(of: "pt [0-9]+", options: .regularExpression).map { Int(line[$0].dropFirst(3))! }
            }
            let livePoint = try #require(pointType(live))
            #expect(pointType(sim) == livePoint - 1, "the open twin of the live marker")
        }
        #expect(chart.caption.contains("have open markers (the live ones filled) and, where a line joins"))
        // The x axis reaches the simulation's 8 clients; the caption says the sim lines go further.
        #expect(script.contains("'8' 8"))
        #expect(chart.caption.contains("run to 8 clients where the live ones stop at 4"))
        // The resources chart, if any, has no simulated series.
        if let resources = ChartPlanner.charts(for: experiment).first(where: { $0.name == "resources" }) {
            #expect(!resources.panels.flatMap(\.series).contains { $0.title.hasPrefix("sim") })
        }
    }

    /// A network delay is stored only away from its default (0 ms); a live cell without one must read as 0 in the
    /// page's coordinates and labels, not as null.
    @Test(.timeLimit(.minutes(1)))
    func aParameterStoredOnlyAwayFromItsDefaultReadsItsDefault() throws {
        let configuration = SyntheticLab.Configuration(
            name: "network", engines: ["sim", "async"], concurrencies: [4], backoffs: ["none"], requests: 20,
            warmup: 0, repetitions: 2, events: false)
        let experiment = try TestSupport.syntheticExperiment(configuration) { database in
            try database.execute("UPDATE cells SET params = json_set(params, '$.networkMs', 10) WHERE engine = 'sim'")
        }
        #expect(experiment.varyingAxes.contains("networkMs"))
        let network = Dictionary(
            uniqueKeysWithValues: experiment.points.map { ($0.engine, $0.coordinate("networkMs")?.canonical ?? "") })
        #expect(network == ["async": "0", "sim": "10"])
        #expect(!ConstructedRun.page(experiment).contains("networkMs null"))
    }
}

/// The machine-speed section marks a point only when the probe and the throughput moved together.
@Suite("Machine speed")
struct MachineSpeedTests {
    static func row(probes: [Double], throughputs: [Double]) throws -> MachineSpeed.Row {
        let experiment = try TestSupport.syntheticExperiment(
            SyntheticLab.Configuration(engines: ["async"], concurrencies: [4], requests: 10, warmup: 0, repetitions: 2))
        return MachineSpeed.Row(point: experiment.points[0], probes: probes, throughputs: throughputs)
    }

    @Test(.timeLimit(.minutes(1)))
    func marksOnlyLargeSpreadWithStronglyNegativeCorrelation() throws {
        // Large spread, throughput falling as the probe slows, five repetitions: marked.
        #expect(MachineSpeed.followsProbe(try Self.row(probes: [2, 3, 4, 5, 6], throughputs: [50, 40, 30, 20, 10])))
        // Large spread but no relation to throughput: not marked (the old ‡ on every spread above 10%).
        #expect(!MachineSpeed.followsProbe(try Self.row(probes: [2, 3, 4, 5, 6], throughputs: [30, 50, 10, 40, 20])))
        // Strong correlation but a small spread: not marked.
        #expect(
            !MachineSpeed.followsProbe(
                try Self.row(probes: [2.00, 2.01, 2.02, 2.03, 2.04], throughputs: [50, 40, 30, 20, 10])))
        // Too few repetitions to read a correlation: not marked.
        #expect(!MachineSpeed.followsProbe(try Self.row(probes: [2, 4, 6], throughputs: [30, 20, 10])))
    }

    @Test(.timeLimit(.minutes(1)))
    func sectionSaysWhatTheProbeMeasuresAndCannot() throws {
        let experiment = try TestSupport.syntheticExperiment(
            SyntheticLab.Configuration(engines: ["async"], concurrencies: [4], requests: 10, warmup: 0, repetitions: 5)
        ) { database in
            try database.execute(
                """
                INSERT INTO events (cell_id, t_ns, kind, value, detail)
                SELECT id, 0, 'speed_probe_ns', 2000000 * (1 + repetition), 'before the client' FROM cells
                """)
        }
        let section = MachineSpeed.section(experiment, axes: experiment.varyingAxes)
        #expect(section.contains("CPU and cache speed left to the client's CPUs"))
        #expect(section.contains("does not see the server's CPU, nor memory the host reclaims"))
        #expect(section.contains("second, warm pass"))
        #expect(!section.contains("a machine of different speed"))
    }
}
