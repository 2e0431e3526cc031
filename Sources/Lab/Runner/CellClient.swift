import AsyncPatterns
import Foundation
import HTTPEngines
import LabStore
import NIOCore

/// The client half of one cell: builds the engine configuration and the resilience policy, runs the engine into a
/// `StoreSink`, and measures this process's CPU, peak memory and the machine over the run. The runner calls it in
/// its own process (`--no-cell-process`) and `CellChild` calls it in a fresh child process, so both measure alike.
struct CellClient {
    /// What the run left behind, besides the samples already in the store.
    struct Outcome {
        /// The engine's summary, or why the engine failed.
        var result: Result<EngineRunSummary, Error>
        /// Samples stored.
        var stored: Int
        /// The policy's and the recording's events, in that order, then the client's time origin
        /// (`client_origin_uptime_ns`) and its measured phase's CPU (`measured_cpu_ns`) when the engine reports them.
        var events: [EventRecord]
    }

    let cell: CellPlan
    let spec: ExperimentSpec
    /// `http://HOST:PORT` of the server the engine talks to.
    let baseURL: String
    /// With `--target`: the path every request asks for.
    let targetPath: String?

    /// Runs the engine for `record` (already inserted in `store`, whose id the samples are stored under) and fills
    /// in its `client` and `machine` figures.
    /// - Throws: `StoreError` when the samples cannot be stored; `LabError` when the policy cannot be built.
    ///   An engine failure is not thrown but returned in `Outcome.result`.
    func run(record: inout CellRecord, records: any RecordWriter) async throws -> Outcome {
        let seed = cell.seed(master: spec.seed)
        var configuration = cell.engineConfiguration(
            baseURL: baseURL, requests: spec.requests(concurrency: cell.concurrency), warmup: spec.warmup, seed: seed,
            minMeasuredSeconds: spec.minMeasuredSeconds)
        if let targetPath { configuration.path = targetPath }
        let policy = try ResilienceSettings(cell: cell, base: spec.resilience).policy(seed: seed)

        guard let kind = cell.engine.kind else {
            throw LabError("the cell `\(cell.engine)` is a reference cell, which the runner runs with WrkCell")
        }
        ProcessFigures.resetPeakRSS()
        let machineBefore = ProcessFigures.machineSnapshot()
        let before = ResourceUsage.current()
        let sink = StoreSink(records: records, cellID: record.id, origin: .now, recorder: RecorderSettings(cell: cell))
        let result: Result<EngineRunSummary, Error>
        do {
            result = .success(try await makeEngine(kind).run(configuration, policy: policy, sink: sink))
        } catch {
            result = .failure(error)
        }
        let stored = try sink.finish()
        let usage = ResourceUsage.current().since(before)
        if let machineBefore, let machineAfter = ProcessFigures.machineSnapshot() {
            record.machine = machineAfter.since(machineBefore)
        }
        record.client = ResourceFigures(
            cpuUserSeconds: usage.userCPUSeconds, cpuSysSeconds: usage.systemCPUSeconds,
            peakRSSBytes: ProcessFigures.peakRSSBytes() ?? usage.maxRSSBytes,
            voluntarySwitches: usage.voluntaryContextSwitches, involuntarySwitches: usage.involuntaryContextSwitches)
        let summary = try? result.get()
        var events = policy.events(origin: summary?.origin) + sink.events
        if let origin = summary?.origin { events.append(Self.originEvent(origin)) }
        if let cpu = summary?.measuredCPUSeconds {
            events.append(EventRecord(tNs: 0, kind: .measuredCPUNs, value: (cpu * 1e9).rounded()))
        }
        return Outcome(result: result, stored: stored, events: events)
    }

    /// `origin` on the host's uptime clock (`NIODeadline`'s, which the mock server reports its schedule's start
    /// on), as a `client_origin_uptime_ns` event: the uptime clock read now, less the time since `origin`.
    static func originEvent(_ origin: ContinuousClock.Instant) -> EventRecord {
        let since = ContinuousClock.now - origin
        let uptime = Int64(NIODeadline.now().uptimeNanoseconds)
        return EventRecord(tNs: 0, kind: .clientOriginUptimeNs, value: Double(uptime - since.nanoseconds))
    }

    /// Sets `record`'s status (and error or timings) from the engine's result, and returns the progress line.
    static func finish(_ record: inout CellRecord, result: Result<EngineRunSummary, Error>, stored: Int) -> String {
        switch result {
        case .success(let summary):
            record.status = .complete
            record.elapsedNs = summary.elapsed.nanoseconds
            record.maxLatenessNs = summary.maxLateness.nanoseconds
            // What the engine actually ran: its warm-up is at least one request per worker, and a minimum measured
            // duration can measure more than `requests`.
            // An engine that reports no counts (both 0) keeps the planned ones.
            if summary.measuredRequests > 0 || summary.warmupRequests > 0 {
                record.plannedRequests = summary.measuredRequests
                record.warmupRequests = summary.warmupRequests
            }
            return summaryLine(completed: summary.completedRequests, stored: stored, elapsedNs: record.elapsedNs)
        case .failure(let error):
            record.status = .failed
            record.error = "\(error)"
            return "FAILED: \(error)"
        }
    }

    /// `N requests, M samples, R req/s`.
    static func summaryLine(completed: Int, stored: Int, elapsedNs: Int64) -> String {
        let seconds = Double(elapsedNs) / 1e9
        let rps = seconds > 0 ? Double(completed) / seconds : 0
        return "\(completed) requests, \(stored) samples, \(Int(rps.rounded())) req/s"
    }
}
