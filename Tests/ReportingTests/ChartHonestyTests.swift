import Foundation
import LabStore
import ReportingSynthetic
import Testing

@testable import Reporting

/// Charts say what the reader cannot see: series drawn on top of each other, a panel left out because it would be
/// a flat line, and no pipeline chart where the experiment does not study the pipeline.
@Suite("Chart honesty", .serialized)
struct ChartHonestyTests {
    static func experiment(
        _ configuration: SyntheticLab.Configuration, edit: (SQLiteDatabase) throws -> Void = { _ in }
    ) throws -> ExperimentModel {
        try TestSupport.syntheticExperiment(configuration, edit: edit)
    }

    static let errors = SyntheticLab.Configuration(
        name: "errors", engines: ["threaded", "async"], concurrencies: [4], errorRates: [0, 0.2, 0.4],
        retries: ["exponential"], requests: 40, warmup: 2, repetitions: 3)

    /// Gives every engine the success rates of the first engine, as the paired design does.
    static func pairSuccessRates(_ experiment: inout ExperimentModel) {
        let first = experiment.engines[0]
        for index in experiment.points.indices where experiment.points[index].engine != first {
            let point = experiment.points[index]
            let twin = experiment.points.first {
                $0.engine == first && $0.coordinate("errorRate") == point.coordinate("errorRate")
            }
            experiment.points[index].metrics["success_rate"] = twin?.metrics["success_rate"]
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func coincidingSeriesAreNamedInTheCaption() throws {
        var experiment = try Self.experiment(Self.errors)
        // Set the engines apart first: no sentence about coinciding lines.
        for index in experiment.points.indices where experiment.points[index].engine == "async" {
            experiment.points[index].metrics["success_rate"] = .exact(0.5 - 0.1 * Double(index))
        }
        let apart = ChartPlanner.errorRateChart(experiment, axis: "errorRate")
        #expect(!apart.caption.contains("coincide"), "\(apart.caption)")

        Self.pairSuccessRates(&experiment)
        let paired = ChartPlanner.errorRateChart(experiment, axis: "errorRate")
        #expect(paired.caption.contains("In the success rate panel, these series coincide"), "\(paired.caption)")
        #expect(paired.caption.contains("\"threaded\" and \"async\""), "\(paired.caption)")
        #expect(paired.caption.contains("the line drawn last hides the others"))
    }

    @Test func seriesSetApartOnCategoriesNeverCoincide() {
        let series = [
            ChartSeries(title: "a", style: .errorPoints, color: "#000000", points: [(0, 1, 1, 1)]),
            ChartSeries(title: "b", style: .errorPoints, color: "#000000", points: [(0, 1, 1, 1)]),
        ]
        let categorical = ChartPanel(xLabel: "", yLabel: "", categoricalX: true, series: series)
        #expect(ChartPlanner.coinciding(categorical).isEmpty)
        let numeric = ChartPanel(xLabel: "", yLabel: "", series: series)
        #expect(ChartPlanner.coinciding(numeric) == [["a", "b"]])
        // Within rounding: 1.0001 prints as 1.00, like 1.
        var close = series
        close[1].points = [(0, 1.0001, 1.0001, 1.0001)]
        #expect(ChartPlanner.coinciding(ChartPanel(xLabel: "", yLabel: "", series: close)) == [["a", "b"]])
        close[1].points = [(0, 1.1, 1.1, 1.1)]
        #expect(ChartPlanner.coinciding(ChartPanel(xLabel: "", yLabel: "", series: close)).isEmpty)
    }

    @Test(.timeLimit(.minutes(1)))
    func aFlatTreatmentPanelIsLeftOutAndTheCaptionSaysSo() throws {
        var experiment = try Self.experiment(
            SyntheticLab.Configuration(
                name: "flat", engines: ["async"], concurrencies: [4], errorRates: [0.3], retries: ["exponential"],
                backoffs: ["none", "exponential", "full"], requests: 40, warmup: 2, repetitions: 3))
        let before = try #require(ChartPlanner.charts(for: experiment).first { $0.name == "backoff" })
        #expect(before.panels.map(\.title) == ["server calls", "completion time"])
        #expect(!before.caption.contains("Server calls is not drawn"))
        // Points whose requests gave up have no completion time: they are left out of that panel, not drawn at
        // their span (as the table's n/a says).
        let gaveUp = experiment.points.filter { $0.metrics["completion_s"] == nil }.count
        #expect(gaveUp > 0)
        #expect(before.caption.contains("\(gaveUp) of 3 points have no completion time and are not drawn"))
        #expect(before.panels[1].series.reduce(0) { $0 + $1.points.count } == 3 - gaveUp)

        for index in experiment.points.indices { experiment.points[index].metrics["server_calls"] = .exact(5000) }
        let after = try #require(ChartPlanner.charts(for: experiment).first { $0.name == "backoff" })
        #expect(after.panels.map(\.title) == ["completion time"])
        #expect(
            after.caption.contains("Server calls is not drawn: it was 5000 at every point, whatever the backoff"),
            "\(after.caption)")
    }

    @Test(.timeLimit(.minutes(1)))
    func thePipelineChartNeedsPipelineData() throws {
        // Every synthetic cell records queue-depth and memory events, as every real cell does.
        let plain = try Self.experiment(Self.errors)
        #expect(!plain.events.isEmpty)
        #expect(!ChartPlanner.charts(for: plain).contains { $0.name == "pipeline" })

        let dropped = try Self.experiment(Self.errors) { database in
            try database.execute(
                "INSERT INTO events (cell_id, t_ns, kind, value) SELECT id, 1000, 'pipeline_dropped', 12 FROM cells")
        }
        #expect(ChartPlanner.charts(for: dropped).contains { $0.name == "pipeline" })
    }
}
