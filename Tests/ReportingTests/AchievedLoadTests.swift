import Foundation
import LabStore
import ReportingSynthetic
import Testing

@testable import Reporting

/// Achieved load: requests in flight on the client and in service at the server against the nominal concurrency,
/// the § mark on closed-loop points that missed it, and the ‡ check of open loops against their offered rate.
@Suite("Achieved load", .serialized)
struct AchievedLoadTests {
    /// A synthetic closed loop (threaded and async at concurrency 4) with `edit` run on its database.
    static func experiment(
        _ configuration: SyntheticLab.Configuration = SyntheticLab.Configuration(
            name: "achieved", engines: ["threaded", "async"], concurrencies: [4], requests: 40, warmup: 4,
            repetitions: 3),
        edit: (SQLiteDatabase) throws -> Void = { _ in }
    ) throws -> ExperimentModel {
        try TestSupport.syntheticExperiment(configuration, edit: edit)
    }

    @Test func peakCountsOnlyOverlappingIntervals() {
        // Half-open intervals: one ending as another starts does not overlap it.
        #expect(InFlight.peak([(0, 10), (5, 15), (10, 20)]) == 2)
        #expect(InFlight.peak([(0, 10), (0, 10), (0, 10)]) == 3)
        #expect(InFlight.peak([(0, 10), (10, 20), (20, 30)]) == 1)
        // Empty intervals (a request rejected before it was sent) are never in flight.
        #expect(InFlight.peak([(5, 5), (7, 6)]) == 0)
        #expect(InFlight.peak([]) == 0)
        #expect(InFlight.peak([(0, 100), (10, 20), (15, 30), (25, 40), (35, 50)]) == 3)
    }

    @Test func catalogueNamesTheAchievedConcurrencyMetrics() {
        for id in ["client_in_flight_peak", "client_in_flight_mean", "server_in_flight_peak", "server_in_flight_mean"] {
            let metric = Metric.named(id)
            #expect(metric != nil, "\(id) is not in the catalogue")
            #expect(metric?.label.isEmpty == false)
            #expect(ReportAnswer.knownMetrics.contains(id))
        }
        let answer = #"{"metrics": ["server_in_flight_peak", "client_in_flight_mean"], "compare": "engine"}"#
        #expect(ReportAnswer.problems(answerJSON: answer, axes: ["concurrency"]).isEmpty)
    }

    @Test(.timeLimit(.minutes(1)))
    func closedLoopCellsMeasureInFlightOnBothSides() throws {
        let experiment = try Self.experiment()
        for (index, point) in experiment.points.enumerated() {
            // The synthetic workers send back to back, four at a time.
            #expect(point.metrics["client_in_flight_peak"]?.median == 4, "\(point.engine)")
            let mean = try #require(point.metrics["client_in_flight_mean"]?.median)
            #expect(mean > 3 && mean <= 4, "\(point.engine): mean \(mean)")
            #expect(point.metrics["server_in_flight_peak"]?.median == 4, "\(point.engine)")
            // Little's law over the run: requests × mean service time / wall time, for each repetition.
            for cell in experiment.cells[index] {
                let server = try #require(cell.cell.server)
                let expected = Double(server.requests) * server.serviceMeanNs / Double(cell.cell.elapsedNs)
                #expect(abs((cell.serverMeanInFlight ?? 0) - expected) < 1e-9)
                #expect(expected > 2 && expected < 4)
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func serverCountingNothingInServiceGivesNoServerFigures() throws {
        // The mock server does not count /health in service: a zero peak means "not counted", not "idle".
        let experiment = try Self.experiment { database in
            try database.execute(#"UPDATE cells SET server_counters = '{"peakInFlight":0,"requests":44}'"#)
        }
        for point in experiment.points {
            #expect(point.metrics["server_in_flight_peak"] == nil)
            #expect(point.metrics["server_in_flight_mean"] == nil)
            #expect(LoadCheck.mark(point).isEmpty)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func pointsBelowTheirNominalConcurrencyAreMarkedWithAFootnote() throws {
        let fine = try Self.experiment()
        let fineTable = AnswerFindings.table(AnswerView(experiment: fine, answer: fine.answer))
        #expect(!fineTable.contains(LoadCheck.closedMark))
        let fineSection = LoadCheck.section(fine)
        #expect(fineSection.contains("## Achieved concurrency"))
        #expect(!fineSection.contains("likely reason"))

        // async's server saw at most 3 of its 4 requests at once: 75% of nominal, below 95%.
        let short = try Self.experiment { database in
            try database.execute(
                #"UPDATE cells SET server_counters = '{"peakInFlight":3,"requests":44}' WHERE engine = 'async'"#)
        }
        let table = AnswerFindings.table(AnswerView(experiment: short, answer: short.answer))
        #expect(table.contains("| async \(LoadCheck.closedMark) |"), "\(table)")
        #expect(table.contains("| threaded |"), "\(table)")
        #expect(table.contains("95% of its nominal concurrency"))
        #expect(table.contains("could not open that many connections"))
        let section = LoadCheck.section(short)
        #expect(section.contains("| 3 \(LoadCheck.closedMark) |"), "\(section)")
        #expect(section.contains("likely reason"))
        let page = ConstructedRun.page(short)
        #expect(page.contains("## Achieved concurrency"))
        #expect(page.contains("**Achieved concurrency** (closed loops)"))
    }

    @Test func openLoopsMissTheirRateByFivePercentOfItEitherWay() {
        #expect(!LoadCheck.missedOfferedRate(achieved: 1049, offered: 1000, lateShare: 0))
        #expect(LoadCheck.missedOfferedRate(achieved: 1051, offered: 1000, lateShare: 0))
        #expect(!LoadCheck.missedOfferedRate(achieved: 951, offered: 1000, lateShare: 0))
        #expect(LoadCheck.missedOfferedRate(achieved: 949, offered: 1000, lateShare: 0))
        #expect(LoadCheck.missedOfferedRate(achieved: 1000, offered: 1000, lateShare: 0.051))
        #expect(!LoadCheck.missedOfferedRate(achieved: nil, offered: 1000, lateShare: nil))
        #expect(LoadCheck.openSentence.contains("more than 5% of the offered rate, either way"))
        #expect(!LoadCheck.missedConcurrency(serverPeak: 95, nominal: 100))
        #expect(LoadCheck.missedConcurrency(serverPeak: 94, nominal: 100))
        #expect(!LoadCheck.missedConcurrency(serverPeak: nil, nominal: 100))
    }

    @Test(.timeLimit(.minutes(1)))
    func openLoopPagesKeepTheirOwnMarkAndNoConcurrencySection() throws {
        let open = try Self.experiment(
            SyntheticLab.Configuration(
                name: "open", engines: ["async"], concurrencies: [8], rates: [200, 400], requests: 40, warmup: 0,
                repetitions: 3))
        #expect(open.points.allSatisfy { $0.isOpenLoop })
        #expect(LoadCheck.section(open).isEmpty)
    }
}

extension AchievedLoadTests {
    @Test(.timeLimit(.minutes(1)))
    func droppedSamplesLeaveNoClientInFlight() throws {
        // The client's figures come from the stored samples: with samples dropped they would undercount.
        let experiment = try Self.experiment { database in
            try database.execute(
                "INSERT INTO events (cell_id, t_ns, kind, value) SELECT id, 1000, 'pipeline_dropped', 12 FROM cells")
        }
        for point in experiment.points {
            #expect(point.metrics["client_in_flight_peak"] == nil)
            #expect(point.metrics["client_in_flight_mean"] == nil)
            #expect(point.metrics["server_in_flight_peak"]?.median == 4)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func clientCPUPerRequestCountsTheWarmUpItRan() throws {
        // The client's CPU is measured over the whole cell, warm-up included, as the server's is.
        let experiment = try Self.experiment()
        let metric = try #require(Metric.named("client_cpu_us_per_request"))
        for cell in experiment.cells.joined() {
            let cpu = try #require(cell.cpuSeconds)
            #expect(cell.warmupFinals == 4)
            let value = try #require(metric.value(cell, []))
            #expect(abs(value - cpu / Double(cell.finals + cell.warmupFinals) * 1e6) < 1e-9)
        }
    }
}

extension AchievedLoadTests {
    @Test(.timeLimit(.minutes(1)))
    func theQuestionTableCarriesClientAndServerCPUPerRequestWithIntervals() throws {
        // What the engines spec asks for when its answer names both CPU metrics.
        let answer = #"{"metrics":["client_cpu_us_per_request","server_cpu_us_per_request"],"compare":"engine"}"#
        let experiment = try Self.experiment { database in
            try database.execute("UPDATE runs SET spec_text = json_set(spec_text, '$.answer', json('\(answer)'))")
            try database.execute(
                "UPDATE cells SET server_cpu_user_s = 0.01 + repetition * 0.001, server_cpu_sys_s = 0.002")
        }
        let table = AnswerFindings.table(AnswerView(experiment: experiment, answer: experiment.answer))
        #expect(table.contains("client CPU per request (µs) \\[CI / range\\]"), "\(table)")
        #expect(table.contains("server CPU per request (µs) \\[CI / range\\]"), "\(table)")
        for point in experiment.points {
            let client = try #require(point.metrics["client_cpu_us_per_request"])
            let server = try #require(point.metrics["server_cpu_us_per_request"])
            #expect(server.low < server.high, "the server's figure varies over repetitions, so it has a range")
            #expect(table.contains(Format.estimate(client, Format.significant)))
            #expect(table.contains(Format.estimate(server, Format.significant) + " |"))
        }
        // The resources table carries both, whatever the spec names.
        let page = ConstructedRun.page(experiment)
        let resources = try #require(page.components(separatedBy: "## Errors, retries and resources").last)
        #expect(resources.contains("| client CPU µs/request | server CPU µs/request |"))
        for point in experiment.points {
            let server = try #require(point.metrics["server_cpu_us_per_request"])
            #expect(resources.contains("| " + Format.estimate(server, Format.significant) + " |"))
        }
    }
}
