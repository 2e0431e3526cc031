import AsyncPatterns
import Foundation
import LabStore
import Testing

@testable import Reporting

/// The throttle experiment's treatment chart draws the SRE book's K − 1 beside the measured backend ratio, on a
/// constructed database: throttle off, K = 2 and K = 4, three repetitions, the backend answering 200 and 503.
@Suite("Throttle chart")
struct ThrottleChartTests {
    static func experiment(analyses: String) throws -> ExperimentModel {
        let spec = """
            {"name":"throttle","question":"K?","engines":["async"],"axes":{"throttle":["off","k:2","k:4"]},
            "requests":10,"repetitions":3,"seed":1,"answer":{"metrics":["backend_rejected_per_accepted","goodput"],
            "compare":"throttle","baseline":"off","analyses":[\(analyses)]}}
            """
        return try ConstructedRun.experiment("throttle", spec: spec) { store, runID in
            let rejectedPer100 = ["off": 300, "k:2": 90, "k:4": 280]
            for (throttle, rejected) in rejectedPer100.sorted(by: { $0.key < $1.key }) {
                for repetition in 0..<3 {
                    var cell = CellRecord(
                        cellKey: "\(throttle)-\(repetition)", runID: runID, experiment: "throttle", engine: "async",
                        concurrency: 4, repetition: repetition,
                        params: #"{"concurrency":4,"engine":"async","throttle":"\#(throttle)"}"#, seed: 1,
                        status: .running, plannedRequests: 2, warmupRequests: 0, startedAt: "2026-01-01T00:00:00Z")
                    cell.id = try store.insertCell(cell)
                    try store.insertSamples(
                        (0..<2).map { id in
                            AttemptSample(
                                requestID: Int64(id), attempt: 1, intendedNs: 0, startNs: 0, endNs: 1_000_000,
                                status: 200, errorClass: .ok, bytes: 1, isFinal: true, isWarmup: false)
                        }, cellID: cell.id)
                    cell.status = .complete
                    cell.elapsedNs = 1_000_000
                    cell.server = ServerFigures(
                        requests: Int64(100 + rejected + repetition), connections: 1, serviceMeanNs: 0, serviceP99Ns: 0,
                        countersJSON: #"{"byStatus":{"200":100,"503":\#(rejected + repetition)}}"#)
                    try store.completeCell(cell)
                }
            }
        }
    }

    @Test("the backend-ratio panel has the book's K − 1 at each K, and the caption names it")
    func bookRatiosBesideTheMeasuredOnes() throws {
        let experiment = try Self.experiment(analyses: #""sre-client-throttling""#)
        let chart = try #require(ChartPlanner.charts(for: experiment).first { $0.name == "treatment" })
        let panel = try #require(chart.panels.first { $0.title == "backend rejected per accepted" })
        let book = try #require(panel.series.first { $0.title == "SRE book: K − 1" })
        #expect(book.points.map(\.x) == [1, 2] && book.points.map(\.y) == [1, 3])
        #expect(chart.caption.contains("the SRE book's K − 1 rejected per accepted"))
        // Only that panel, and only where the page makes the comparison.
        #expect(chart.panels.filter { $0.series.contains { $0.title.hasPrefix("SRE book") } }.count == 1)
        let plain = try Self.experiment(analyses: "")
        let other = try #require(ChartPlanner.charts(for: plain).first { $0.name == "treatment" })
        #expect(!other.panels.contains { $0.series.contains { $0.title.hasPrefix("SRE book") } })
    }
}
