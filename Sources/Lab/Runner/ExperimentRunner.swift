import AsyncHTTPClient
import AsyncPatterns
import Foundation
import HTTPEngines
import LabStore

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
    /// Whether SIGINT or SIGTERM stopped the sweep early.
    public var interrupted = false
    /// The warning printed when the machine was busy with something else during some cells (CPU steal or other
    /// processes); nil when it was not, or /proc/stat could not be read.
    public var machineWarning: String?
}

/// Runs experiment specs: validates them all, then sweeps every grid cell on every engine, streaming raw
/// samples into the store, and records provenance, resource use and the server's counters per cell.
public struct ExperimentRunner: Sendable {
    private let options: RunOptions

    /// Where a sweep's records go. Every record is written once, to `records`: the store, which assigns the ids,
    /// then the JSONL file when asked. `store` also answers the reads (completed cells, a cell's samples and events)
    /// and imports a cell child's database.
    struct Outputs {
        /// The SQLite store, opened for writing.
        let store: LabStore
        /// The store, then the JSONL file.
        let records: TeeRecordWriter

        /// Opens the database for writing and, with `jsonlPath`, the JSONL file for appending.
        /// - Throws: `StoreError`, `JSONLError`.
        init(databasePath: String, jsonlPath: String?) throws {
            store = try LabStore.openForWriting(path: databasePath)
            var writers: [any RecordWriter] = [store]
            if let jsonlPath { writers.append(try JSONLWriter(path: jsonlPath)) }
            records = TeeRecordWriter(writers)
        }
    }

    public init(options: RunOptions) {
        self.options = options
    }

    /// Runs the sweep. SIGINT or SIGTERM stops it after the current cell; finished cells are kept.
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
        let outputs = try Outputs(databasePath: options.databasePath, jsonlPath: options.jsonlPath)
        let abandoned = try outputs.store.markAbandonedRuns(at: Timestamp.now())
        if abandoned > 0 {
            output("marked \(abandoned) run(s) left `running` by a process that died as `abandoned`")
        }
        try outputs.records.deleteUnfinishedCells()
        let done = options.resume ? try outputs.store.completedCellKeys() : []

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
        do {
            try await InterruptFlag.catchingSignals { interrupt in
                try await sweep(
                    plans, outputs: outputs, server: server, target: target, admin: admin, interrupt: interrupt,
                    done: done, cells: cells, outcome: &outcome)
            }
        } catch {
            try? await admin.shutdown()
            throw error
        }
        try await admin.shutdown()
        return outcome
    }

    private func sweep(
        _ plans: [(spec: ExperimentSpec, cells: [CellPlan])], outputs: Outputs, server: MockServerProcess?,
        target: TargetServer?, admin: HTTPClient, interrupt: InterruptFlag, done: Set<String>,
        cells processes: CellProcess?, outcome: inout RunOutcome
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
            let pending = cells.filter { !done.contains($0.key) }
                .interleaved(master: spec.seed, blockAxis: spec.blockAxis)
            if pending.isEmpty { continue }
            var run = RunRecord(
                experiment: spec.name, status: .running, startedAt: Timestamp.now(), masterSeed: spec.seed,
                specPath: spec.path, specText: spec.text, specSHA256: SHA256.hex(spec.text),
                commandLine: options.commandLine, gitCommit: provenance.gitCommit, gitDirty: provenance.gitDirty,
                swiftVersion: provenance.swiftVersion, os: provenance.os, kernel: provenance.kernel,
                cpuModel: provenance.cpuModel, cores: provenance.cores, memoryBytes: provenance.memoryBytes,
                target: options.target ?? "mock")
            run.id = try outputs.records.insertRun(run)
            let runID = run.id
            for cell in pending {
                if interrupt.isSet { break }
                let label = "\(spec.name) \(cell.label(axes: spec.axisNames))"
                progress.starting(label)
                guard
                    let (summary, record) = try await runCell(
                        cell, spec: spec, run: run, outputs: outputs, server: server, target: target, admin: admin,
                        processes: processes)
                else {
                    progress.note("\(label): its process was interrupted; the cell is discarded (--resume runs it)")
                    continue
                }
                machine.record(record, label: label)
                progress.finished(label, summary: summary, estimate: Catalogue.estimatedSeconds(cell, spec: spec))
                outcome.cellsRun += 1
            }
            let status: RunStatus = interrupt.isSet ? .interrupted : .complete
            let ended = Timestamp.now()
            try outputs.records.finishRun(id: runID, status: status, endedAt: ended)
            try outputs.records.flush()
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
        _ cell: CellPlan, spec: ExperimentSpec, run: RunRecord, outputs: Outputs, server: MockServerProcess?,
        target: TargetServer?, admin: HTTPClient, processes: CellProcess?
    ) async throws -> (summary: String, record: CellRecord)? {
        let serverSeed = cell.serverSeed(master: spec.seed)
        var record = CellRecord(
            cellKey: cell.key, runID: run.id, experiment: spec.name, engine: cell.engine.rawValue,
            concurrency: cell.concurrency, repetition: cell.repetition,
            params: cell.canonicalParameters, seed: cell.seed(master: spec.seed), status: .running,
            plannedRequests: cell.engine == .wrk ? 0 : spec.requests(concurrency: cell.concurrency),
            warmupRequests: cell.engine == .wrk ? 0 : spec.warmup,
            startedAt: Timestamp.now(), serverSeed: serverSeed)
        record.id = try outputs.records.insertCell(record)

        if cell.engine == .sim {
            // Virtual time: no server, no child process, no machine figures; the same seeds as the live cells.
            let summary = try SimCell(cell: cell, spec: spec).run(record: &record, records: outputs.records)
            try outputs.records.insertEvents(
                cell.injectedErrorRateEvents(schedule: spec.server.schedule), cellID: record.id)
            try outputs.records.completeCell(record)
            try outputs.records.flush()
            return (summary, record)
        }
        let baseURL = server?.baseURL ?? target!.baseURL
        if let server {
            try await server.configure(
                json: cell.serverConfiguration(base: spec.server, seed: serverSeed).jsonString(), client: admin)
        }
        let serverCPU = server.flatMap { ProcessFigures.cpuReading(pid: $0.pid) }
        let probeBefore = SpeedProbe.measure()
        let clientStart = ContinuousClock.now

        let summary: String
        /// The client's events, for its time origin.
        var clientEvents: [EventRecord] = []
        if cell.engine == .wrk {
            // wrk is a process of its own already: the runner starts it, from its own (the client's) CPUs.
            let wrk = WrkCell(
                executable: WrkCell.locate(find: options.findTool) ?? "wrk", cell: cell, spec: spec, baseURL: baseURL)
            summary = await wrk.run(record: &record)
        } else if let processes {
            let job = CellJob(
                specPath: spec.path, specText: spec.text, quick: options.quick, cellKey: cell.key, baseURL: baseURL,
                targetPath: target?.path, run: run, cell: record, database: processes.paths(cellID: record.id).database)
            guard let line = try await runClientInChild(job, record: &record, outputs: outputs, processes: processes)
            else {
                try outputs.records.deleteUnfinishedCells()
                try outputs.records.flush()
                return nil
            }
            summary = line
            clientEvents = try outputs.store.events(cellID: record.id)
        } else {
            let client = CellClient(cell: cell, spec: spec, baseURL: baseURL, targetPath: target?.path)
            // The sample recorder writes to the store and the JSONL file, through the tee, from a thread of its own.
            let outcome = try await client.run(record: &record, records: outputs.records)
            summary = CellClient.finish(&record, result: outcome.result, stored: outcome.stored)
            try outputs.records.insertEvents(outcome.events, cellID: record.id)
            clientEvents = outcome.events
        }
        let clientEnd = (ContinuousClock.now - clientStart).nanoseconds
        try outputs.records.insertEvents(
            [
                EventRecord(tNs: 0, kind: .speedProbeNs, value: Double(probeBefore), detail: "before the client"),
                EventRecord(
                    tNs: clientEnd, kind: .speedProbeNs, value: Double(SpeedProbe.measure()), detail: "after the client"
                ),
            ], cellID: record.id)
        if let server {
            record.server = try await server.figures(client: admin, cpuBefore: serverCPU)
            let offsetNs = CellPlan.scheduleOffsetNs(clientEvents: clientEvents, server: record.server)
            let injected = cell.injectedErrorRateEvents(schedule: spec.server.schedule, offsetNs: offsetNs)
            try outputs.records.insertEvents(injected, cellID: record.id)
        }
        try outputs.records.completeCell(record)
        try outputs.records.flush()
        return (summary, record)
    }

    /// The path of an executable built beside the running one.
    package static func siblingExecutable(_ name: String) -> String {
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
