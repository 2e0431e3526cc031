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

    /// Open loops offered 1000 requests a second: per engine, the spacing of its first attempts at concurrency 256
    /// (threaded keeps to the offered rate, async falls to half of it); at concurrency 1 both keep to it.
    static let spacingNs: [String: Int64] = ["threaded": 1_000_000, "async": 2_000_000]

    static func experiment(
        metrics: String, openLoop: Bool = false, spacingNs: [String: Int64] = spacingNs
    ) throws -> ExperimentModel {
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
                                cpuUserSeconds: seconds.server, cpuSysSeconds: 0, countersJSON: "{}"),
                            load: openLoop ? #""load":"poisson","rate":1000"# : "", requests: openLoop ? 11 : 1,
                            spacingNs: concurrency == 1 ? 1_000_000 : spacingNs[engine] ?? 0)
                    }
                }
            }
        }
    }

    /// The saturation finding of `experiment`, seen by its spec's answer.
    static func sentence(_ experiment: ExperimentModel) -> String? {
        AnswerFindings.saturationSentence(AnswerView(experiment: experiment, answer: experiment.answer))
    }

    @Test("the findings name the points where each side's CPU saturated, and count the others")
    func namesEachSide() throws {
        let experiment = try Self.experiment(metrics: #""throughput""#)
        let sentence = try #require(Self.sentence(experiment))
        #expect(sentence.hasPrefix("**Which side limited throughput** (its CPU at 90.0% or more"))
        #expect(
            sentence.contains(
                "of 4 live points: the client's in 1 (threaded: concurrency 256); the server's in 1 "
                    + "(async: concurrency 256)."), "\(sentence)")
        #expect(sentence.hasSuffix("at the other 2 neither side's CPU was the limit."), "\(sentence)")
    }

    @Test("in open loops the findings say whether the schedule was kept, not that the saturated side set throughput")
    func openLoops() throws {
        let experiment = try Self.experiment(metrics: #""goodput""#, openLoop: true)
        let sentence = try #require(Self.sentence(experiment))
        #expect(sentence.hasPrefix("**Which side's CPU saturated** (its CPU at 90.0% or more"), "\(sentence)")
        #expect(!sentence.contains("set the throughput"), "\(sentence)")
        #expect(
            sentence.contains(
                "Those 2 are open loops, whose arrival rate the schedule sets: 1 of them kept to the offered rate "
                    + "(within 5%, no ‡), so there the saturation showed in latency, measured from each request's "
                    + "intended send, and not in throughput; 1 fell behind it (‡); at the other 2 neither side's CPU "
                    + "was the limit."), "\(sentence)")
    }

    @Test("when every saturated open loop kept to its rate, or none did, the sentence says so of them all")
    func openLoopsAllAlike() throws {
        let lead = "Those 2 are open loops, whose arrival rate the schedule sets: "
        // Both engines' first attempts spaced `spacingNs` apart: 1 ms keeps to the offered 1000/s, 2 ms falls behind.
        func sentence(spacingNs: Int64) throws -> String {
            try #require(
                Self.sentence(
                    Self.experiment(
                        metrics: #""goodput""#, openLoop: true,
                        spacingNs: ["threaded": spacingNs, "async": spacingNs])))
        }
        let kept = try sentence(spacingNs: 1_000_000)
        #expect(
            kept.contains(
                lead + "they kept to the offered rate (within 5%, no ‡), so there the saturation showed in latency, "
                    + "measured from each request's intended send, and not in throughput; at the other 2"),
            "\(kept)")
        let behind = try sentence(spacingNs: 2_000_000)
        #expect(
            behind.contains(
                lead + "they fell behind it (‡), so the saturated side's CPU set their throughput; at the other 2"),
            "\(behind)")
    }

    @Test("the Methods line says what saturation does in each kind of loop the experiment has")
    func methodsByLoop() throws {
        for openLoop in [false, true] {
            let experiment = try Self.experiment(metrics: #""throughput""#, openLoop: openLoop)
            let loads = experiment.cells.flatMap { $0.map { Methods.load($0, run: experiment.run) } }
            let line = Methods.saturationLine(experiment, loads: loads)
            #expect(line.contains("saturated side sets the throughput of its cells") == !openLoop, "\(line)")
            #expect(line.contains("In an open loop the schedule sets the arrival rate") == openLoop, "\(line)")
        }
    }

    @Test("no sentence where the question is not about throughput or goodput")
    func onlyForThroughput() throws {
        let experiment = try Self.experiment(metrics: #""p99_ms""#)
        #expect(Self.sentence(experiment) == nil)
    }
}
