import AsyncPatterns
import Foundation
import LabStore
import Testing

@testable import Reporting

/// The finding on which side limited throughput, on a constructed database: cells of 1 s of wall time whose client
/// and server CPU seconds are set by hand (one client CPU and one server CPU, as the runner pins them on two).
@Suite("Which side limited throughput")
struct SaturationFindingTests {
    /// Client and server CPU seconds per cell, by engine and concurrency: threaded's client saturates at 256, async's
    /// server does; at concurrency 1 neither side is busy.
    static let cpu: [String: [Int: (client: Double, server: Double)]] = [
        "threaded": [1: (0.05, 0.04), 256: (0.97, 0.60)],
        "async": [1: (0.04, 0.04), 256: (0.70, 0.95)],
    ]

    static func experiment(metrics: String) throws -> ExperimentModel {
        let spec = """
            {"name":"engines","question":"Which engine is fastest?","engines":["threaded","async"],
            "axes":{"concurrency":[1,256]},"requests":10,"repetitions":3,"seed":1,
            "answer":{"metrics":[\(metrics)],"compare":"engine","by":"concurrency"}}
            """
        return try ConstructedRun.experiment("engines", spec: spec) { store, runID in
            for (engine, byConcurrency) in cpu.sorted(by: { $0.key < $1.key }) {
                for (concurrency, seconds) in byConcurrency.sorted(by: { $0.key < $1.key }) {
                    for repetition in 0..<3 {
                        try ConstructedRun.addCell(
                            store, runID: runID, experiment: "engines", engine: engine, concurrency: concurrency,
                            repetition: repetition, elapsedNs: 1_000_000_000,
                            client: ResourceFigures(
                                cpuUserSeconds: seconds.client, cpuSysSeconds: 0, peakRSSBytes: 1 << 20,
                                voluntarySwitches: 0, involuntarySwitches: 0),
                            server: ServerFigures(
                                requests: 1, connections: 1, serviceMeanNs: 1e6, serviceP99Ns: 1e6,
                                cpuUserSeconds: seconds.server, cpuSysSeconds: 0, countersJSON: "{}"))
                    }
                }
            }
        }
    }

    @Test("the findings name the points where each side's CPU saturated, and count the others")
    func namesEachSide() throws {
        let experiment = try Self.experiment(metrics: #""throughput""#)
        let sentence = try #require(
            AnswerFindings.saturationSentence(AnswerView(experiment: experiment, answer: experiment.answer)))
        #expect(sentence.hasPrefix("**Which side limited throughput** (its CPU at 90.0% or more"))
        #expect(
            sentence.contains(
                "of 4 live points: the client's in 1 (threaded: concurrency 256); the server's in 1 "
                    + "(async: concurrency 256)."), "\(sentence)")
        #expect(sentence.hasSuffix("at the other 2 neither side's CPU was the limit."), "\(sentence)")
    }

    @Test("no sentence where the question is not about throughput or goodput")
    func onlyForThroughput() throws {
        let experiment = try Self.experiment(metrics: #""p99_ms""#)
        #expect(AnswerFindings.saturationSentence(AnswerView(experiment: experiment, answer: experiment.answer)) == nil)
    }
}
