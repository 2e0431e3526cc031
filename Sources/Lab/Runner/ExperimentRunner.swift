import AsyncHTTPClient
import AsyncPatterns
import Foundation
import HTTPEngines
import LabStore
import Synchronization

/// What `experiments run` was asked to do.
public struct RunOptions: Sendable {
    /// Spec files to run, in order.
    public var specPaths: [String]
    /// The database to write. Default `results/lab.sqlite`.
    public var databasePath: String = "results/lab.sqlite"
    /// Use each spec's `quick` profile.
    public var quick = false
    /// Skip cells already complete in the database.
    public var resume = false
    /// Run only this slice of every grid.
    public var shard: Shard?
    /// Run against this server instead of the mock server; fault-injection specs are skipped.
    public var target: String?
    /// Print the grid and exit without running.
    public var dryRun = false
    /// The mock-server binary. Default: `mock-server` beside the running executable.
    public var mockServerPath: String?
    /// Also write every record as JSON lines to this file (appending). Default none.
    public var jsonlPath: String?
    /// Pin the mock server to the last CPU when the machine has two or more. Default true.
    public var pin = true
    /// The command line, for provenance.
    public var commandLine: String = CommandLine.arguments.joined(separator: " ")
    /// Run each cell's client in a fresh child process (`experiments cell-child`), so its CPU, memory, threads and
    /// descriptors are that cell's alone and a crash fails only that cell. Default true; false runs every cell in
    /// this process, as before.
    public var cellProcess = true
    /// The `experiments` binary that runs `cell-child`. Default: `experiments` beside the running executable (the
    /// running executable itself, in `experiments run`).
    public var cellExecutable: String?
    /// Finds an external program by name (wrk, for specs that list it), nil when it is not installed. Default: the
    /// PATH (and the sbin folders).
    public var findTool: @Sendable (String) -> String? = { ExternalTools.find($0) }

    public init(specPaths: [String]) {
        self.specPaths = specPaths
    }
}

/// What a sweep did.
public struct RunOutcome: Sendable {
    /// Cells run to completion now.
    public var cellsRun = 0
    /// Cells skipped because `--resume` found them complete.
    public var cellsSkipped = 0
    /// Specs skipped because they need the mock server and `--target` was given.
    public var specsSkipped: [String] = []
    /// Whether SIGINT stopped the sweep early.
    public var interrupted = false
    /// The warning printed when the machine was busy with something else during some cells (CPU steal or other
    /// processes); nil when it was not, or /proc/stat could not be read.
    public var machineWarning: String?
}

/// Runs experiment specs: validates them all, then sweeps every grid cell on every engine, streaming raw
/// samples into the store, and records provenance, resource use and the server's counters per cell.
public struct ExperimentRunner: Sendable {
    private let options: RunOptions

    public init(options: RunOptions) {
        self.options = options
    }

    /// Runs the sweep. SIGINT stops it after the current cell; finished cells are kept.
    /// - Throws: `SpecErrors` before anything runs when a spec is invalid; `StoreError` when the database
    ///   cannot be used; `LabError` for other failures.
    public func run(output: (String) -> Void = { print($0) }) async throws -> RunOutcome {
        // 1. Validate everything before any work.
        var specs: [ExperimentSpec] = []
        var problems: [SpecError] = []
        for path in options.specPaths {
            do {
                specs.append(try ExperimentSpec.load(path: path, quick: options.quick))
            } catch {
                problems += error.errors
            }
        }
        if !options.dryRun {
            problems += specs.compactMap { $0.missingReferenceTool(find: options.findTool) }
        }
        if !problems.isEmpty { throw SpecErrors(errors: problems) }
        let target = try options.target.map(TargetServer.init)

        var outcome = RunOutcome()
        var plans: [(spec: ExperimentSpec, cells: [CellPlan])] = []
        for spec in specs {
            if let target {
                if let reason = target.skipReason(for: spec) {
                    outcome.specsSkipped.append(spec.name)
                    output("skipping \(spec.name): \(reason)")
                    continue
                }
                output(target.note(for: spec))
            }
            var cells = spec.grid()
            if let shard = options.shard { cells = cells.filter { shard.contains($0.index) } }
            plans.append((spec, cells))
        }

        if options.dryRun {
            for (spec, cells) in plans {
                output("\(spec.name): \(cells.count) cells")
                for cell in cells {
                    let requests = spec.requests(concurrency: cell.concurrency)
                    let length =
                        cell.engine == .wrk
                        ? "seconds=\(spec.referenceSeconds)" : "requests=\(spec.warmup)+\(requests)"
                    output(
                        "  \(cell.key)  \(cell.label(axes: spec.axisNames))  \(length)  "
                            + "seed=\(cell.seed(master: spec.seed)) serverSeed=\(cell.serverSeed(master: spec.seed))")
                }
            }
            return outcome
        }

        // 2. Open the database (schema checks) before starting anything.
        try FileManager.default.createDirectory(
            atPath: (options.databasePath as NSString).deletingLastPathComponent.isEmpty
                ? "." : (options.databasePath as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true)
        let store = try LabStore.openForWriting(path: options.databasePath)
        let jsonl = try options.jsonlPath.map { try JSONLWriter(path: $0) }
        let abandoned = try store.markAbandonedRuns(at: Timestamp.now())
        if abandoned > 0 {
            output("marked \(abandoned) run(s) left `running` by a process that died as `abandoned`")
        }
        try store.deleteUnfinishedCells()
        try jsonl?.writeDeleteUnfinishedCells()
        let done = options.resume ? try store.completedCellKeys() : []

        // 3. Start the server.
        var server: MockServerProcess?
        if options.target == nil {
            server = try MockServerProcess.start(
                executable: options.mockServerPath ?? Self.siblingExecutable("mock-server"), pin: options.pin)
        }
        defer { server?.stop() }
        var cells: CellProcess?
        if options.cellProcess {
            // Beside the database, so the child's recording writes to the same file system as before. With the
            // database's lock held, any other such folder was left by a runner that was killed: remove it.
            let folder = (options.databasePath as NSString).deletingLastPathComponent
            let prefix = "." + (options.databasePath as NSString).lastPathComponent + ".cells-"
            let parent = folder.isEmpty ? "." : folder
            for stale in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
            where stale.hasPrefix(prefix) {
                try? FileManager.default.removeItem(atPath: (parent as NSString).appendingPathComponent(stale))
            }
            let path = (parent as NSString).appendingPathComponent(prefix + "\(getpid())")
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            cells = CellProcess(
                executable: options.cellExecutable ?? Self.siblingExecutable("experiments"), folder: path)
        }
        defer { if let cells { try? FileManager.default.removeItem(atPath: cells.folder) } }
        let admin = HTTPClient(eventLoopGroupProvider: .singleton)
        let interrupt = InterruptFlag.install()
        defer { interrupt.uninstall() }
        do {
            try await sweep(
                plans, store: store, jsonl: jsonl, server: server, target: target, admin: admin, interrupt: interrupt,
                done: done, cells: cells, outcome: &outcome)
        } catch {
            try? await admin.shutdown()
            throw error
        }
        try await admin.shutdown()
        return outcome
    }

    private func sweep(
        _ plans: [(spec: ExperimentSpec, cells: [CellPlan])], store: LabStore, jsonl: JSONLWriter?,
        server: MockServerProcess?, target: TargetServer?, admin: HTTPClient, interrupt: InterruptFlag,
        done: Set<String>, cells processes: CellProcess?, outcome: inout RunOutcome
    ) async throws {

        let provenance = Provenance.current()
        let estimates = plans.flatMap { plan in
            plan.cells.filter { !done.contains($0.key) }.map { Catalogue.estimatedSeconds($0, spec: plan.spec) }
        }
        let total = estimates.count
        var progress = Progress(estimates: estimates)
        if let warning = await BusyMachineCheck.atStart() { progress.note(warning) }
        var machine = BusyMachineCheck()
        outcome.cellsSkipped = plans.reduce(0) { $0 + $1.cells.count } - total

        for (spec, cells) in plans {
            let pending = cells.filter { !done.contains($0.key) }.interleaved(master: spec.seed)
            if pending.isEmpty { continue }
            var run = RunRecord(
                experiment: spec.name, status: "running", startedAt: Timestamp.now(), masterSeed: spec.seed,
                specPath: spec.path, specText: spec.text, specSHA256: SHA256.hex(spec.text),
                commandLine: options.commandLine, gitCommit: provenance.gitCommit, gitDirty: provenance.gitDirty,
                swiftVersion: provenance.swiftVersion, os: provenance.os, kernel: provenance.kernel,
                cpuModel: provenance.cpuModel, cores: provenance.cores, memoryBytes: provenance.memoryBytes,
                target: options.target ?? "mock")
            run.id = try store.insertRun(run)
            try jsonl?.writeRun(run)
            let runID = run.id
            for cell in pending {
                if interrupt.isSet { break }
                let label = "\(spec.name) \(cell.label(axes: spec.axisNames))"
                progress.starting(label)
                guard
                    let (summary, record) = try await runCell(
                        cell, spec: spec, run: run, store: store, jsonl: jsonl, server: server, target: target,
                        admin: admin, processes: processes)
                else {
                    progress.note("\(label): its process was interrupted; the cell is discarded (--resume runs it)")
                    continue
                }
                machine.record(record, label: label)
                progress.finished(label, summary: summary, estimate: Catalogue.estimatedSeconds(cell, spec: spec))
                outcome.cellsRun += 1
            }
            let status = interrupt.isSet ? "interrupted" : "complete"
            let ended = Timestamp.now()
            try store.finishRun(id: runID, status: status, endedAt: ended)
            try jsonl?.writeRunStatus(id: runID, status: status, endedAt: ended)
            try jsonl?.flush()
            if interrupt.isSet { break }
        }
        if let warning = machine.warning(target: target != nil) {
            outcome.machineWarning = warning
            progress.note(warning)
        }
        if interrupt.isSet {
            outcome.interrupted = true
            progress.note(
                "interrupted: finished cells are saved in \(options.databasePath). Resume with:\n  "
                    + Self.resumeCommand(options.commandLine))
        }
    }

    /// Runs one cell: inserts its row, configures the mock server, runs the client (in a child process, or here
    /// without `processes`), reads the server's figures, and completes the row with its status. Returns nil when
    /// SIGINT or SIGTERM ended the cell's process: the cell is then discarded, as an interrupted run's
    /// unfinished cell is.
    private func runCell(
        _ cell: CellPlan, spec: ExperimentSpec, run: RunRecord, store: LabStore, jsonl: JSONLWriter?,
        server: MockServerProcess?, target: TargetServer?, admin: HTTPClient, processes: CellProcess?
    ) async throws -> (summary: String, record: CellRecord)? {
        let serverSeed = cell.serverSeed(master: spec.seed)
        var record = CellRecord(
            cellKey: cell.key, runID: run.id, experiment: spec.name, engine: cell.engine.rawValue,
            concurrency: cell.concurrency, repetition: cell.repetition,
            params: cell.canonicalParameters, seed: cell.seed(master: spec.seed), status: "running",
            plannedRequests: cell.engine == .wrk ? 0 : spec.requests(concurrency: cell.concurrency),
            warmupRequests: cell.engine == .wrk ? 0 : spec.warmup,
            startedAt: Timestamp.now(), serverSeed: serverSeed)
        record.id = try store.insertCell(record)

        let baseURL = server?.baseURL ?? target!.baseURL
        if let server {
            try await server.configure(
                json: cell.serverConfigurationJSON(specServerJSON: spec.serverJSON, seed: serverSeed), client: admin)
        }
        let serverCPU = server.flatMap { ProcessFigures.cpuSeconds(pid: $0.pid) }
        try jsonl?.writeCell(record)

        let summary: String
        var events: [EventRecord]
        if cell.engine == .wrk {
            // wrk is a process of its own already: the runner starts it, from its own (the client's) CPUs.
            let wrk = WrkCell(
                executable: WrkCell.locate(find: options.findTool) ?? "wrk", cell: cell, spec: spec, baseURL: baseURL)
            summary = await wrk.run(record: &record)
            events = []
        } else if let processes {
            let job = CellJob(
                specPath: spec.path, specText: spec.text, quick: options.quick, cellKey: cell.key, baseURL: baseURL,
                targetPath: target?.path, run: run, cell: record, database: processes.paths(cellID: record.id).database)
            guard let line = try await runClientInChild(job, record: &record, store: store, processes: processes)
            else {
                try store.deleteUnfinishedCells()
                try jsonl?.writeDeleteUnfinishedCells()
                try jsonl?.flush()
                return nil
            }
            summary = line
            // The child's events are in the store already; JSONL gets them from there.
            events = []
            if jsonl != nil {
                events = try store.events(cellID: record.id)
                var batch: [AttemptSample] = []
                try store.forEachSample(cellID: record.id) { sample in
                    batch.append(sample)
                    if batch.count == 8192 {
                        try jsonl?.writeSamples(batch, cellID: record.id)
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                try jsonl?.writeSamples(batch, cellID: record.id)
            }
        } else {
            let client = CellClient(cell: cell, spec: spec, baseURL: baseURL, targetPath: target?.path)
            let outcome = try await client.run(record: &record, store: store, jsonl: jsonl)
            summary = CellClient.finish(&record, result: outcome.result, stored: outcome.stored)
            try store.insertEvents(outcome.events, cellID: record.id)
            events = outcome.events
        }
        if let server {
            record.server = try await server.figures(client: admin, cpuBefore: serverCPU)
            let injected = cell.injectedErrorRateEvents(specServerJSON: spec.serverJSON)
            try store.insertEvents(injected, cellID: record.id)
            events += injected
        }
        try jsonl?.writeEvents(events, cellID: record.id)
        try store.completeCell(record)
        try jsonl?.writeCell(record)
        try jsonl?.flush()
        return (summary, record)
    }

    /// Runs `job`'s client in a child process and imports what it stored (samples, events) into `record`'s cell,
    /// with its status and client figures. A child that crashed or exited non-zero fails the cell, with its exit
    /// status or signal and the tail of its standard error in `error`. Returns the progress line, or nil when SIGINT
    /// or SIGTERM killed the child (it ignores both once started, so only in its first milliseconds, when a
    /// terminal's Ctrl-C or `scancel` signals the whole process group).
    private func runClientInChild(
        _ job: CellJob, record: inout CellRecord, store: LabStore, processes: CellProcess
    ) async throws -> String? {
        defer { processes.removeFiles(cellID: record.id) }
        let start = ContinuousClock.now
        let exit = try await processes.run(job, cellID: record.id)
        let exited = ContinuousClock.now
        if exit.signalled && (exit.status == SIGINT || exit.status == SIGTERM) { return nil }
        guard exit.succeeded else {
            record.status = "failed"
            record.error = exit.failure
            return "FAILED: \(exit.failure)"
        }
        let child = try store.importCell(from: job.database, into: record.id)
        // What the process costs the sweep: its life from spawn to exit, and the import; less the engine's run
        // (`elapsed_ns`), the overhead per cell.
        let imported = ContinuousClock.now
        try store.insertEvents(
            [
                EventRecord(
                    tNs: (exited - start).nanoseconds, kind: CellChild.processEvent,
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
        return exit.summary ?? (child.status == "complete" ? "complete" : "FAILED: \(child.error ?? "")")
    }

    /// The path of an executable built beside the running one.
    static func siblingExecutable(_ name: String) -> String {
        ((currentExecutable as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name)
    }

    /// The running executable's path: `experiments run` passes itself as `RunOptions.cellExecutable`.
    public static var currentExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    static func resumeCommand(_ commandLine: String) -> String {
        commandLine.contains("--resume") ? commandLine : commandLine + " --resume"
    }
}

extension Duration {
    /// The duration in whole nanoseconds.
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}

/// Set by SIGINT or SIGTERM (how Slurm's `scancel` and time limits, and Kubernetes, stop a job); the sweep checks
/// it between cells, so an interrupted cell never leaves half a result. A second signal exits at once; the
/// unfinished cell is discarded by the next run.
final class InterruptFlag: @unchecked Sendable {
    // Safe: `flag` is atomic and `sources` is written only in `init`; the dispatch sources are thread-safe.
    private let flag = Atomic<Bool>(false)
    private let sources: [DispatchSourceSignal]
    private static let signals: [(number: Int32, name: String)] = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")]

    private init() {
        for (number, _) in Self.signals { signal(number, SIG_IGN) }
        sources = Self.signals.map { DispatchSource.makeSignalSource(signal: $0.number, queue: .global()) }
    }

    /// Starts catching SIGINT and SIGTERM.
    static func install() -> InterruptFlag {
        let interrupt = InterruptFlag()
        for (source, (_, name)) in zip(interrupt.sources, signals) {
            source.setEventHandler { [interrupt] in
                if interrupt.flag.exchange(true, ordering: .relaxed) { exit(130) }
                FileHandle.standardError.write(
                    Data("\n\(name): finishing the current cell, then stopping (send it again to abort)\n".utf8))
            }
            source.resume()
        }
        return interrupt
    }

    /// Whether SIGINT or SIGTERM arrived.
    var isSet: Bool { flag.load(ordering: .relaxed) }

    /// Restores the default behaviour of both signals.
    func uninstall() {
        for source in sources { source.cancel() }
        for (number, _) in Self.signals { signal(number, SIG_DFL) }
    }
}

/// Counts the cells during which the machine was busy with something other than the experiment: CPU stolen by the
/// hypervisor above `stealLimit`, or CPU of other processes (the machine's busy time less steal, the client's and the
/// mock server's; steal is counted apart from every process's time, so it is not another process) above `otherLimit`
/// of the CPU time available. Their latencies and throughput may be noisy.
struct BusyMachineCheck: Sendable {
    /// Steal above this share of the CPU time available marks a cell: 0.05.
    static let stealLimit = 0.05
    /// Other processes' CPU above this share of the CPU time available marks a cell: 0.10.
    static let otherLimit = 0.10
    /// Cells with less CPU time available than this are not judged: /proc/stat counts in ticks of 10 ms, so one
    /// tick in a short cell would be a large share. 1 s.
    static let minimumTotalSeconds = 1.0

    /// Cells judged (with machine figures and enough CPU time).
    private(set) var judged = 0
    /// Cells over a limit.
    private(set) var busy = 0
    /// The largest steal share seen over its limit, with its cell's label.
    private(set) var worstSteal: (share: Double, label: String)?
    /// The largest other-process share seen over its limit, with its cell's label.
    private(set) var worstOther: (share: Double, label: String)?

    /// Judges one stored cell; `label` names it in the warning.
    mutating func record(_ cell: CellRecord, label: String) {
        guard let machine = cell.machine, machine.totalSeconds >= Self.minimumTotalSeconds else { return }
        judged += 1
        let client = cell.client.map { $0.cpuUserSeconds + $0.cpuSysSeconds } ?? 0
        let server = (cell.server?.cpuUserSeconds ?? 0) + (cell.server?.cpuSysSeconds ?? 0)
        let steal = machine.stealSeconds / machine.totalSeconds
        let other = max(0, machine.busySeconds - machine.stealSeconds - client - server) / machine.totalSeconds
        if steal > Self.stealLimit, steal > worstSteal?.share ?? 0 { worstSteal = (steal, label) }
        if other > Self.otherLimit, other > worstOther?.share ?? 0 { worstOther = (other, label) }
        if steal > Self.stealLimit || other > Self.otherLimit { busy += 1 }
    }

    /// Before a sweep: measures the machine for half a second, while the lab is idle, and returns a warning when
    /// other processes took more than a tenth of a CPU or the hypervisor stole more than `stealLimit`; nil on a
    /// quiet machine or without /proc/stat.
    static func atStart(seconds: Double = 0.5) async -> String? {
        guard let before = ProcessFigures.machineSnapshot() else { return nil }
        try? await Task.sleep(for: .seconds(seconds))
        guard let after = ProcessFigures.machineSnapshot() else { return nil }
        let figures = after.since(before)
        let wall = figures.totalSeconds / Double(ProcessFigures.cpusOnline)
        guard wall > 0 else { return nil }
        let other = max(0, figures.busySeconds - figures.stealSeconds) / wall
        let steal = figures.stealSeconds / figures.totalSeconds
        guard other > 0.1 || steal > stealLimit else { return nil }
        return "warning: the machine is busy before the sweep starts: other processes use "
            + String(format: "%.2f", other) + " CPUs and the hypervisor steals " + String(format: "%.1f%%", steal * 100)
            + " of the CPU time; stop other work for figures worth citing (each cell's figures are recorded either way)"
    }

    /// One line for stderr when any cell was over a limit, naming how many and the worst figures; nil otherwise.
    /// With `target`, the target server's own CPU counts as other processes, and the line says so.
    func warning(target: Bool) -> String? {
        guard busy > 0 else { return nil }
        func percent(_ share: Double) -> String { String(format: "%.1f%%", share * 100) }
        let worst = [
            worstSteal.map { "CPU steal \(percent($0.share)) in `\($0.label)`" },
            worstOther.map { "other processes \(percent($0.share)) in `\($0.label)`" },
        ].compactMap { $0 }
        return "warning: the machine was busy during \(busy) of \(judged) cells (CPU steal above "
            + "\(percent(Self.stealLimit)) or other processes above \(percent(Self.otherLimit)) of the CPU time); "
            + "worst: \(worst.joined(separator: ", "))"
            + (target ? " (with --target, a target server on this machine counts as other processes)" : "")
            + "; results may be noisy"
    }
}
