import AsyncPatterns
import Foundation
import LabStore
import Testing

@testable import Reporting

/// The `memory-slope` analysis and its index headline, on a constructed database: `threaded` grows 40 KiB and
/// `async` 10 KiB of peak RSS per in-flight request over a 40 MiB base, at concurrency 1, 64 and 256, four
/// repetitions each, with a few KiB of noise that leaves the slopes almost exact.
@Suite("Memory per in-flight request")
struct MemorySlopeTests {
    static let kibPerRequest = ["threaded": 40.0, "async": 10.0]

    static func experiment() throws -> ExperimentModel {
        let spec = """
            {"name":"memory","question":"How much memory per in-flight request?","engines":["threaded","async"],
            "axes":{"concurrency":[1,64,256]},"requests":10,"repetitions":4,"seed":1,
            "answer":{"metrics":["peak_rss_mib"],"compare":"engine","by":"concurrency","analyses":["memory-slope"]}}
            """
        return try ConstructedRun.experiment("memory", spec: spec) { store, runID in
            for (engine, slope) in kibPerRequest.sorted(by: { $0.key < $1.key }) {
                for concurrency in [1, 64, 256] {
                    for repetition in 0..<4 {
                        let kib = 40 * 1024 + slope * Double(concurrency) + Double(repetition % 2 == 0 ? 2 : -2)
                        try ConstructedRun.addCell(
                            store, runID: runID, experiment: "memory", engine: engine, concurrency: concurrency,
                            repetition: repetition, elapsedNs: 1_000_000,
                            client: ResourceFigures(
                                cpuUserSeconds: 0, cpuSysSeconds: 0, peakRSSBytes: Int64(kib * 1024),
                                voluntarySwitches: 0,
                                involuntarySwitches: 0))
                    }
                }
            }
        }
    }

    @Test("each engine's slope is its KiB per in-flight request, with a bootstrap interval around it")
    func slopes() throws {
        let experiment = try Self.experiment()
        let slopes = Analyses.memorySlopes(AnswerView(experiment: experiment, answer: experiment.answer)).slopes
        #expect(slopes.map(\.name).sorted() == ["async", "threaded"])
        for slope in slopes {
            let expected = try #require(Self.kibPerRequest[slope.name])
            #expect(abs(slope.estimate.median - expected) < 0.1, "\(slope.name): \(slope.estimate.median)")
            #expect(slope.estimate.low <= slope.estimate.median && slope.estimate.median <= slope.estimate.high)
            #expect(slope.estimate.high - slope.estimate.low < 0.5 && slope.draws.count == 2000)
        }
    }

    @Test("the index headline is the slope, the smallest against the largest, not the RSS at one concurrency")
    func headline() throws {
        let experiment = try Self.experiment()
        let rows = AnswerFindings.headlineRows(
            AnswerView(experiment: experiment, answer: experiment.answer), link: "[memory](memory/README.md)")
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(row[1] == "KiB per in-flight request (slope of peak RSS)")
        #expect(row[3].hasPrefix("async 10.0 [") && row[4].hasPrefix("threaded 40.0 ["), "\(row)")
        #expect(row[5].hasPrefix("0.25× ["), "\(row[5])")
    }

    @Test("the resources caption says that CPU per request at a few requests a second is mostly the cost of waiting")
    func idleCost() throws {
        var experiment = try Self.experiment()
        for index in experiment.points.indices {
            experiment.points[index].cpuSeconds = 0.1
            experiment.points[index].throughput = .exact(experiment.points[index].concurrency == 1 ? 4.5 : 1200)
        }
        #expect(
            ChartPlanner.idleCostNote(experiment).hasPrefix(
                " At concurrency 1 the client made at most 4.50 requests a second, so its CPU per request there is "
                    + "mostly what the process burns while it waits"))
        #expect(ChartPlanner.resourcesChart(experiment).caption.contains("at most 4.50 requests a second"))
        // Busy at every concurrency: nothing to say.
        for index in experiment.points.indices { experiment.points[index].throughput = .exact(1500) }
        #expect(ChartPlanner.idleCostNote(experiment).isEmpty)
    }
}
