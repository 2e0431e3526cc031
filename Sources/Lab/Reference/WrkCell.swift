import Foundation
import LabStore

/// One reference cell: wrk, closed loop at the cell's concurrency against the same server as the engines, from this
/// process's CPUs (the client's when pinned). It stores no samples: wrk's own figures go to the cell's `reference`,
/// its process's CPU, memory and context switches to `client`, the machine's CPU to `machine`.
///
/// With a warm-up in the spec, a 1 s wrk run goes first and is discarded (the engines' warm-up requests are recorded
/// but left out of their statistics the same way); without one, the measured run starts cold, as the engines do.
struct WrkCell {
    /// Where wrk is installed.
    let executable: String
    let cell: CellPlan
    let spec: ExperimentSpec
    /// `http://127.0.0.1:PORT` of the server.
    let baseURL: String

    /// The installed wrk, from `find` (PATH by default), or nil.
    static func locate(find: (String) -> String? = ExternalTools.find) -> String? { find("wrk") }

    /// What to do when wrk is missing.
    static let installHint =
        "install it with `apt-get install wrk` (`make experiments` installs it when it is missing), or remove "
        + "`wrk` from `engines`"

    /// The URL every request asks for.
    var url: String { baseURL + cell[.path].description }

    /// wrk's arguments for a run of `seconds`: one thread, a connection per unit of concurrency, the latency
    /// distribution, the cell's request timeout (whole seconds, at least 1), and `Connection: close` when the cell
    /// pools `naive`.
    func arguments(seconds: Int) -> [String] {
        let timeout = max(1, Int(((cell[.timeoutMs].number ?? 10_000) / 1000).rounded(.up)))
        var arguments = ["-t1", "-c\(cell.concurrency)", "-d\(seconds)s", "--latency", "--timeout", "\(timeout)s"]
        if cell[.pooling] == .string("naive") { arguments += ["-H", "Connection: close"] }
        return arguments + [url]
    }

    /// Runs the warm-up (when the spec has one) and the measured run, and fills in `record`: status, error,
    /// elapsed time, reference, client and machine figures. Planned and warm-up requests stay 0: no request of a
    /// reference cell is recorded as a sample. Returns the progress line.
    func run(record: inout CellRecord) async -> String {
        guard url.hasPrefix("http://127.0.0.1:") || url.hasPrefix("http://127.0.0.1/") else {
            return fail(&record, "wrk is only run against 127.0.0.1, not \(baseURL)")
        }
        record.plannedRequests = 0
        record.warmupRequests = 0
        do {
            // The server's counters cover the warm-up too, so the wall time, the machine's and wrk's own figures
            // do as well, as for an engine's cell (whose elapsed time includes its warm-up).
            let machineBefore = ProcessFigures.machineSnapshot()
            let warmup = spec.warmup > 0 ? try await SpawnedProcess.run(executable, arguments(seconds: 1)) : nil
            let outcome = try await SpawnedProcess.run(executable, arguments(seconds: spec.referenceSeconds))
            if let machineBefore, let machineAfter = ProcessFigures.machineSnapshot() {
                record.machine = machineAfter.since(machineBefore)
            }
            var usage = outcome.usage
            if let warmup {
                usage.cpuUserSeconds += warmup.usage.cpuUserSeconds
                usage.cpuSysSeconds += warmup.usage.cpuSysSeconds
                usage.peakRSSBytes = max(usage.peakRSSBytes, warmup.usage.peakRSSBytes)
                usage.voluntarySwitches += warmup.usage.voluntarySwitches
                usage.involuntarySwitches += warmup.usage.involuntarySwitches
            }
            record.client = usage
            record.elapsedNs = (outcome.elapsed + (warmup?.elapsed ?? .zero)).nanoseconds
            guard !outcome.signalled, outcome.status == 0 else {
                let how = outcome.signalled ? "was killed by signal \(outcome.status)" : "exited \(outcome.status)"
                return fail(
                    &record,
                    "wrk \(how): \((outcome.errors + outcome.output).suffix(500).trimmingCharacters(in: .whitespacesAndNewlines))"
                )
            }
            let figures = try WrkOutput.parse(outcome.output)
            record.reference = figures
            record.status = .complete
            return "wrk: \(figures.requests) requests, \(Int(figures.requestsPerSecond.rounded())) req/s, "
                + "p99 \(String(format: "%.3g", figures.p99Ns / 1e6)) ms, \(figures.errors) errors"
        } catch {
            return fail(&record, "\(error)")
        }
    }

    private func fail(_ record: inout CellRecord, _ message: String) -> String {
        record.status = .failed
        record.error = message
        return "FAILED: \(message)"
    }
}
