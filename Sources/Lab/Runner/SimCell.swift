import AsyncPatterns
import Foundation
import LabStore
import MockServer
import Simulation

/// A `sim` cell: the cell's clients and the mock server simulated in virtual time (`Simulation`), with the cell's
/// own engine configuration, resilience settings, client seed and server seed, so a (request id, attempt) meets
/// the fault it meets in the live cells of the same repetition. It runs in the runner's process (it is
/// single-threaded and needs no server) and stores its samples, the policy's events and the simulated server's
/// counters like any cell. The network between client and server is the cell's `networkMs` and `networkSdMs`.
struct SimCell {
    let cell: CellPlan
    let spec: ExperimentSpec

    /// The simulated network: a fixed round trip of `networkMs`, or |N(networkMs, networkSdMs)| per attempt.
    var network: NetworkDelay {
        let mean = Duration.microseconds(Int64(((cell[.networkMs].number ?? 0) * 1000).rounded()))
        let deviation = Duration.microseconds(Int64(((cell[.networkSdMs].number ?? 0) * 1000).rounded()))
        return deviation > .zero ? .absNormal(mean: mean, standardDeviation: deviation) : .fixed(mean)
    }

    /// Simulates the cell with `requests` measured requests (the spec's by default; 0 checks the settings only).
    /// - Throws: `SimulationError` or `ResilienceConfigurationError` for settings the simulation cannot run.
    func simulate(requests: Int? = nil) throws -> SimulationResult {
        let seed = cell.seed(master: spec.seed)
        let configuration = cell.engineConfiguration(
            baseURL: "http://127.0.0.1:0", requests: requests ?? spec.requests(concurrency: cell.concurrency),
            warmup: requests == 0 ? 0 : spec.warmup, seed: seed,
            minMeasuredSeconds: requests == 0 ? nil : spec.minMeasuredSeconds)
        return try Simulation.run(
            configuration: configuration,
            server: cell.serverConfiguration(base: spec.server, seed: cell.serverSeed(master: spec.seed)),
            resilience: try ResilienceSettings(cell: cell, base: spec.resilience).configuration(), seed: seed,
            network: network)
    }

    /// Runs the simulation and stores its samples and events under `record`, which it completes with the run's
    /// figures (virtual elapsed time, the server's counters); a simulation that throws fails the cell. Returns the
    /// progress line.
    /// - Throws: `StoreError` when the store cannot take the rows.
    func run(record: inout CellRecord, records: any RecordWriter) throws -> String {
        let start = ContinuousClock.now
        let result: SimulationResult
        do {
            result = try simulate()
        } catch {
            record.status = .failed
            record.error = "\(error)"
            return "FAILED: \(error)"
        }
        let wall = (ContinuousClock.now - start).nanoseconds
        try records.insertSamples(result.samples, cellID: record.id)
        var events: [EventRecord] = []
        if let snapshot = result.resilience {
            events = EventRecord.policyEvents(
                result.resilienceEvents, snapshot: snapshot, endNs: result.summary.elapsed.nanoseconds)
        }
        events.append(
            EventRecord(
                tNs: result.summary.elapsed.nanoseconds, kind: .simulationNs, value: Double(wall),
                detail: "\(result.events) events, \(result.server.wasted) services wasted"))
        try records.insertEvents(events, cellID: record.id)
        record.server = ServerFigures(
            requests: Int64(result.server.requests), connections: 0, serviceMeanNs: 0, serviceP99Ns: 0,
            countersJSON: Self.countersJSON(result))
        return CellClient.finish(&record, result: .success(result.summary), stored: result.samples.count)
    }

    /// The simulated server's counters under the live server's keys (`requests`, `connections`, `byStatus`,
    /// `peakInFlight`), plus its own `wasted`, `rejected` and `peakQueued`, and `"simulated": true`.
    struct Counters: Encodable {
        var requests: Int
        var connections = 0
        var byStatus: [String: Int]
        var peakInFlight: Int
        var simulated = true
        var wasted: Int
        var rejected: Int
        var peakQueued: Int
    }

    /// `Counters` of `result` as sorted-key JSON.
    static func countersJSON(_ result: SimulationResult) -> String {
        var byStatus: [String: Int] = [:]
        for sample in result.samples where sample.status > 0 { byStatus["\(sample.status)", default: 0] += 1 }
        let server = result.server
        let counters = Counters(
            requests: server.requests, byStatus: byStatus, peakInFlight: server.peakInService, wasted: server.wasted,
            rejected: server.rejected, peakQueued: server.peakQueued)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(counters)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
