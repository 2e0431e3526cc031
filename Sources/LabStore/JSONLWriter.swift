import AsyncPatterns
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes the store's records (runs, cells, samples, events) as JSON Lines: one object per line, with a `type`
/// field first and then the SQLite column names, in the schema's column order, so the output is deterministic
/// and `jq`/pandas-friendly.
///
/// Line types and when to write them, mirroring `LabStore`:
/// - `run` (`insertRun`, with the id the store returned), then `run_status` (`finishRun`);
/// - `cell` (`insertCell` with status `running`, and again on `completeCell`: a later `cell` line with the same
///   id supersedes the earlier one, and a non-running one replaces other cells with the same `cell_key`);
/// - `sample` and `event` (`insertSamples`, `insertEvents`);
/// - `delete_unfinished_cells` (`deleteUnfinishedCells`).
///
/// Output is buffered (1 MiB) and written with `fwrite`; `flush()` after each batch bounds what a crash loses to
/// the batch in flight, and `JSONLReader` ignores a torn last line. Not thread-safe; one writer at a time.
public final class JSONLWriter {
    /// The file's path.
    public let path: String
    private var file: UnsafeMutablePointer<FILE>?
    private var buffer: [UInt8] = []
    private let flushThreshold: Int

    /// Opens `path` for writing: appending by default (a resumed run continues the file), or truncating it.
    /// `bufferBytes` is how much is buffered before a write (default 1 MiB).
    /// - Throws: `JSONLError` when the file cannot be opened.
    public init(path: String, append: Bool = true, bufferBytes: Int = 1 << 20) throws {
        self.path = path
        guard let file = fopen(path, append ? "a" : "w") else {
            throw JSONLError.cannotOpen(path: path, errno: errno)
        }
        self.file = file
        flushThreshold = max(4096, bufferBytes)
        buffer.reserveCapacity(flushThreshold + 4096)
    }

    deinit {
        try? close()
    }

    // MARK: Records

    /// Writes a `run` line. `run.id` must be the id `LabStore.insertRun` returned.
    public func writeRun(_ run: RunRecord) throws {
        try write { line in
            line.begin("run")
            line.field("id", run.id)
            line.field("experiment", run.experiment)
            line.field("status", run.status.rawValue)
            line.field("started_at", run.startedAt)
            line.field("ended_at", run.endedAt)
            line.field("master_seed", run.masterSeed)
            line.field("spec_path", run.specPath)
            line.field("spec_text", run.specText)
            line.field("spec_sha256", run.specSHA256)
            line.field("command_line", run.commandLine)
            line.field("git_commit", run.gitCommit)
            line.field("git_dirty", run.gitDirty)
            line.field("swift_version", run.swiftVersion)
            line.field("os", run.os)
            line.field("kernel", run.kernel)
            line.field("cpu_model", run.cpuModel)
            line.field("cores", Int64(run.cores))
            line.field("memory_bytes", run.memoryBytes)
            line.field("target", run.target)
            line.end()
        }
    }

    /// Writes a `run_status` line: the run ended with `status` at `endedAt` (as `LabStore.finishRun`).
    public func writeRunStatus(id: Int64, status: RunStatus, endedAt: String) throws {
        try write { line in
            line.begin("run_status")
            line.field("id", id)
            line.field("status", status.rawValue)
            line.field("ended_at", endedAt)
            line.end()
        }
    }

    /// Writes a `cell` line with every column. `cell.id` must be the id `LabStore.insertCell` returned.
    public func writeCell(_ cell: CellRecord) throws {
        try write { line in
            line.begin("cell")
            line.field("id", cell.id)
            line.field("cell_key", cell.cellKey)
            line.field("run_id", cell.runID)
            line.field("experiment", cell.experiment)
            line.field("engine", cell.engine)
            line.field("concurrency", Int64(cell.concurrency))
            line.field("repetition", Int64(cell.repetition))
            line.field("params", cell.params)
            line.field("seed", cell.seed)
            line.field("server_seed", cell.serverSeed)
            line.field("status", cell.status.rawValue)
            line.field("error", cell.error)
            line.field("planned_requests", Int64(cell.plannedRequests))
            line.field("warmup_requests", Int64(cell.warmupRequests))
            line.field("started_at", cell.startedAt)
            line.field("elapsed_ns", cell.elapsedNs)
            line.field("max_lateness_ns", cell.maxLatenessNs)
            let client = cell.client
            line.field("cpu_user_s", client?.cpuUserSeconds)
            line.field("cpu_sys_s", client?.cpuSysSeconds)
            line.field("peak_rss_bytes", client?.peakRSSBytes)
            line.field("ctx_voluntary", client?.voluntarySwitches)
            line.field("ctx_involuntary", client?.involuntarySwitches)
            let server = cell.server
            line.field("server_requests", server?.requests)
            line.field("server_connections", server?.connections)
            line.field("server_service_mean_ns", server?.serviceMeanNs)
            line.field("server_service_p99_ns", server?.serviceP99Ns)
            line.field("server_cpu_user_s", server?.cpuUserSeconds)
            line.field("server_cpu_sys_s", server?.cpuSysSeconds)
            line.field("server_peak_rss_bytes", server?.peakRSSBytes)
            line.field("server_counters", server?.countersJSON)
            let machine = cell.machine
            line.field("machine_total_s", machine?.totalSeconds)
            line.field("machine_busy_s", machine?.busySeconds)
            line.field("machine_steal_s", machine?.stealSeconds)
            let reference = cell.reference
            line.field("reference_requests", reference?.requests)
            line.field("reference_rps", reference?.requestsPerSecond)
            line.field("reference_p50_ns", reference?.p50Ns)
            line.field("reference_p99_ns", reference?.p99Ns)
            line.field("reference_errors", reference?.errors)
            line.end()
        }
    }

    /// Writes one `sample` line per sample, in order.
    public func writeSamples<S: Sequence<AttemptSample>>(_ samples: S, cellID: Int64) throws {
        try write { line in
            for sample in samples {
                line.begin("sample")
                line.field("cell_id", cellID)
                line.field("request_id", sample.requestID)
                line.field("attempt", Int64(sample.attempt))
                line.field("intended_ns", sample.intendedNs)
                line.field("start_ns", sample.startNs)
                line.field("end_ns", sample.endNs)
                line.field("status", Int64(sample.status))
                line.field("error_class", sample.errorClass.rawValue)
                line.field("bytes", sample.bytes)
                line.field("is_final", sample.isFinal)
                line.field("is_warmup", sample.isWarmup)
                line.end()
                if line.bytes.count >= flushThreshold { try writeOut(&line.bytes) }
            }
        }
    }

    /// Writes one `event` line per event, in order.
    public func writeEvents(_ events: [EventRecord], cellID: Int64) throws {
        try write { line in
            for event in events {
                line.begin("event")
                line.field("cell_id", cellID)
                line.field("t_ns", event.tNs)
                line.field("kind", event.kind.rawValue)
                line.field("value", event.value)
                line.field("detail", event.detail)
                line.end()
            }
        }
    }

    /// Writes a `delete_unfinished_cells` line (as `LabStore.deleteUnfinishedCells`).
    public func writeDeleteUnfinishedCells() throws {
        try write { line in
            line.begin("delete_unfinished_cells")
            line.end()
        }
    }

    // MARK: Output

    /// Hands everything buffered to the operating system.
    /// - Throws: `JSONLError` when the write fails (disk full, closed file).
    public func flush() throws {
        try writeOut(&buffer)
        guard let file else { return }
        if fflush(file) != 0 { throw JSONLError.writeFailed(path: path, errno: errno) }
    }

    /// Flushes and closes the file; later writes throw.
    /// - Throws: `JSONLError` when the last write fails.
    public func close() throws {
        guard let file else { return }
        defer {
            fclose(file)
            self.file = nil
        }
        try flush()
    }

    /// Runs `body` on the buffer taken out of `self` (one exclusivity check per call, not per byte), then writes
    /// it out when it has grown past the threshold.
    private func write(_ body: (inout JSONLineBuilder) throws -> Void) throws {
        guard file != nil else { throw JSONLError.closed(path: path) }
        var line = JSONLineBuilder(bytes: buffer)
        buffer = []
        defer { buffer = line.bytes }
        try body(&line)
        if line.bytes.count >= flushThreshold { try writeOut(&line.bytes) }
    }

    private func writeOut(_ bytes: inout [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        guard let file else { throw JSONLError.closed(path: path) }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        if written != bytes.count { throw JSONLError.writeFailed(path: path, errno: errno) }
        bytes.removeAll(keepingCapacity: true)
    }
}
