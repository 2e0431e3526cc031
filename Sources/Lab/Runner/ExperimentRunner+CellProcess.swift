import Foundation
import LabStore

extension ExperimentRunner {
    /// Runs `job`'s client in a child process and imports what it stored (samples, events) into `record`'s cell,
    /// with its status and client figures. A child that crashed or exited non-zero fails the cell, with its exit
    /// status or signal and the tail of its standard error in `error`. Returns the progress line, or nil when SIGINT
    /// or SIGTERM killed the child (it ignores both once started, so only in its first milliseconds, when a
    /// terminal's Ctrl-C or `scancel` signals the whole process group).
    ///
    /// The child's samples and events are copied into the store, then from the store to the other outputs.
    func runClientInChild(
        _ job: CellJob, record: inout CellRecord, outputs: Outputs, processes: CellProcess
    ) async throws -> String? {
        defer { processes.removeFiles(cellID: record.id) }
        let start = ContinuousClock.now
        let exit = try await processes.run(job, cellID: record.id)
        let exited = ContinuousClock.now
        if exit.signalled && (exit.status == SIGINT || exit.status == SIGTERM) { return nil }
        guard exit.succeeded else {
            record.status = .failed
            record.error = exit.failure
            return "FAILED: \(exit.failure)"
        }
        let child = try outputs.store.importCell(from: job.database, into: record.id)
        // What the process costs the sweep: its life from spawn to exit, and the import; less the engine's run
        // (`elapsed_ns`), the overhead per cell.
        let imported = ContinuousClock.now
        try outputs.records.copyCell(record.id, from: outputs.store)
        try outputs.records.insertEvents(
            [
                EventRecord(
                    tNs: (exited - start).nanoseconds, kind: .cellProcessNs,
                    value: Double((imported - start).nanoseconds),
                    detail: "spawn to exit \((exited - start).nanoseconds / 1_000_000) ms, "
                        + "import \((imported - exited).nanoseconds / 1_000_000) ms")
            ], cellID: record.id)
        record.status = child.status
        record.error = child.error
        record.plannedRequests = child.plannedRequests
        record.warmupRequests = child.warmupRequests
        record.reference = child.reference
        record.elapsedNs = child.elapsedNs
        record.maxLatenessNs = child.maxLatenessNs
        record.client = child.client
        record.machine = child.machine
        return exit.summary ?? (child.status == .complete ? child.status.rawValue : "FAILED: \(child.error ?? "")")
    }
}
