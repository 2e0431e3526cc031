import AsyncPatterns
import Foundation
import HTTPEngines
import MockServer
import Simulation
import Synchronization
import Testing

@Suite("Simulation determinism")
struct SimulationDeterminismTests {
    static let loads: [LoadModel] = [.closed, .openFixed(rate: 4000), .openPoisson(rate: 4000)]

    @Test("the same seed gives identical samples; another seed different ones", arguments: loads)
    func sameSeedSameSamples(load: LoadModel) throws {
        let first = try SimulationFixtures.mixedRun(seed: 11, load: load)
        let second = try SimulationFixtures.mixedRun(seed: 11, load: load)
        let other = try SimulationFixtures.mixedRun(seed: 12, load: load)
        // 20 warm-up requests are raised to one per worker (50), as the engines do.
        #expect(first.summary.warmupRequests == 50)
        #expect(first.samples.count > 2050)
        #expect(first.samples == second.samples)
        #expect(first.summary == second.summary)
        #expect(first.samples != other.samples)
        #expect(first.samples.filter(\.isFinal).count == 2050)
        #expect(first.summary.completedRequests == 2050)
        #expect(first.samples.filter(\.isWarmup).map(\.requestID).allSatisfy { $0 < 50 })
    }

    @Test("a busy sibling thread (a host at another speed) changes nothing", .timeLimit(.minutes(1)))
    func busySiblingChangesNothing() throws {
        let quiet = try SimulationFixtures.mixedRun(seed: 5)
        let spinner = Spinner()
        let sibling = Thread { spinner.spin() }
        sibling.start()
        defer { spinner.stop.store(true, ordering: .relaxed) }
        while spinner.spins.load(ordering: .relaxed) == 0 { Thread.sleep(forTimeInterval: 0.001) }
        var busy: [SimulationResult] = []
        for _ in 0..<3 { busy.append(try SimulationFixtures.mixedRun(seed: 5)) }
        for run in busy {
            #expect(run.samples == quiet.samples)
            #expect(run.summary == quiet.summary)
        }
    }

    @Test("the warm-up is marked and the measured phase starts once every warm-up request has ended", arguments: loads)
    func warmupBarrier(load: LoadModel) throws {
        let result = try SimulationFixtures.mixedRun(seed: 3, load: load)
        let warmup = result.samples.filter(\.isWarmup)
        let measured = result.samples.filter { !$0.isWarmup }
        #expect(Set(warmup.map(\.requestID)) == Set(0..<50))
        #expect(Set(measured.map(\.requestID)) == Set(50..<2050))
        let barrierNs = warmup.filter(\.isFinal).map(\.endNs).max() ?? 0
        #expect(measured.allSatisfy { $0.intendedNs >= barrierNs })
    }

    @Test("settings the simulation cannot use are refused with an error naming them")
    func refusesWhatItCannotModel() {
        var delay = SimulationFixtures.closed(workers: 1, requests: 1)
        delay.path = "/delay/1"
        #expect(throws: SimulationError.self) {
            _ = try Simulation.run(configuration: delay, server: SimulationFixtures.server(), seed: 1)
        }
        var query = SimulationFixtures.closed(workers: 1, requests: 1)
        query.path = "/get?a=1"
        #expect(throws: Never.self) {
            _ = try Simulation.run(configuration: query, server: SimulationFixtures.server(), seed: 1)
        }
        var noWorkers = SimulationFixtures.closed(workers: 1, requests: 1)
        noWorkers.concurrency = 0
        #expect(throws: SimulationError.self) {
            _ = try Simulation.run(configuration: noWorkers, server: SimulationFixtures.server(), seed: 1)
        }
    }

    @Test("an open loop at a fixed rate starts each first attempt on its schedule")
    func fixedRateSchedule() throws {
        var configuration = SimulationFixtures.closed(workers: 64, requests: 500)
        configuration.load = .openFixed(rate: 1000)
        let result = try Simulation.run(
            configuration: configuration, server: SimulationFixtures.server(latency: .fixed(ms: 2)), seed: 1,
            network: .fixed(.milliseconds(1)))
        let firsts = result.samples.sorted { $0.requestID < $1.requestID }
        #expect(firsts.count == 500)
        for sample in firsts {
            #expect(sample.intendedNs == sample.requestID * 1_000_000)
            #expect(sample.startNs == sample.intendedNs)
            #expect(sample.latencyNs == 3_000_000)
        }
        #expect(result.summary.maxLateness == .zero)
    }
}

/// A busy loop for a sibling thread, until `stop` is set.
private final class Spinner: Sendable {
    let stop = Atomic<Bool>(false)
    let spins = Atomic<Int>(0)

    func spin() {
        var local = 0
        while !stop.load(ordering: .relaxed) {
            local &+= 1
            if local % 4096 == 0 { spins.add(1, ordering: .relaxed) }
        }
    }
}
