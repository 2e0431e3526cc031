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
        if !problems.isEmpty { throw SpecErrors(errors: problems) }
        let target = try options.target.map(TargetServer.init)

        var outcome = RunOutcome()
        var plans: [(spec: ExperimentSpec, cells: [CellPlan])] = []
        for spec in specs {
            if let target {
                if spec.needsMockServer {
                    outcome.specsSkipped.append(spec.name)
                    output(
                        "skipping \(spec.name): it injects faults (errorRate or the spec's `server` settings), which "
                            + "only the mock server can do, not --target")
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
                    output(
                        "  \(cell.key)  \(cell.label(axes: spec.axisNames))  requests=\(spec.warmup)+\(requests)  "
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
        let admin = HTTPClient(eventLoopGroupProvider: .singleton)
        let interrupt = InterruptFlag.install()
        defer { interrupt.uninstall() }
        do {
            try await sweep(
                plans, store: store, jsonl: jsonl, server: server, target: target, admin: admin, interrupt: interrupt,
                done: done, outcome: &outcome)
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
        done: Set<String>, outcome: inout RunOutcome
    ) async throws {

        let provenance = Provenance.current()
        let total = plans.reduce(0) { $0 + $1.cells.filter { !done.contains($0.key) }.count }
        var progress = Progress(total: total)
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
                let summary = try await runCell(
                    cell, spec: spec, runID: runID, store: store, jsonl: jsonl, server: server, target: target,
                    admin: admin)
                progress.finished(label, summary: summary)
                outcome.cellsRun += 1
            }
            let status = interrupt.isSet ? "interrupted" : "complete"
            let ended = Timestamp.now()
            try store.finishRun(id: runID, status: status, endedAt: ended)
            try jsonl?.writeRunStatus(id: runID, status: status, endedAt: ended)
            try jsonl?.flush()
            if interrupt.isSet { break }
        }
        if interrupt.isSet {
            outcome.interrupted = true
            progress.note(
                "interrupted: finished cells are saved in \(options.databasePath). Resume with:\n  "
                    + Self.resumeCommand(options.commandLine))
        }
    }

    private func runCell(
        _ cell: CellPlan, spec: ExperimentSpec, runID: Int64, store: LabStore, jsonl: JSONLWriter?,
        server: MockServerProcess?, target: TargetServer?, admin: HTTPClient
    ) async throws -> String {
        let seed = cell.seed(master: spec.seed)
        let serverSeed = cell.serverSeed(master: spec.seed)
        let requests = spec.requests(concurrency: cell.concurrency)
        var record = CellRecord(
            cellKey: cell.key, runID: runID, experiment: spec.name, engine: cell.engine.rawValue,
            concurrency: cell.concurrency, repetition: cell.repetition,
            params: cell.canonicalParameters, seed: seed, status: "running", plannedRequests: requests,
            warmupRequests: spec.warmup, startedAt: Timestamp.now(), serverSeed: serverSeed)
        record.id = try store.insertCell(record)

        let baseURL = server?.baseURL ?? target!.baseURL
        if let server {
            try await server.configure(
                json: cell.serverConfigurationJSON(specServerJSON: spec.serverJSON, seed: serverSeed), client: admin)
        }
        let serverCPU = server.flatMap { ProcessFigures.cpuSeconds(pid: $0.pid) }
        var configuration = cell.engineConfiguration(
            baseURL: baseURL, requests: requests, warmup: spec.warmup, seed: seed)
        if let target { configuration.path = target.path }
        let policy = try ResilienceSettings(cell: cell, baseJSON: spec.resilienceJSON).policy(seed: seed)

        try jsonl?.writeCell(record)
        ProcessFigures.resetPeakRSS()
        let before = ResourceUsage.current()
        let sink = StoreSink(
            store: store, jsonl: jsonl, cellID: record.id, origin: .now, recorder: RecorderSettings(cell: cell))
        let result: Result<EngineRunSummary, Error>
        do {
            result = .success(try await makeEngine(cell.engine).run(configuration, policy: policy, sink: sink))
        } catch {
            result = .failure(error)
        }
        let stored = try sink.finish()
        let usage = ResourceUsage.current().since(before)
        record.client = ResourceFigures(
            cpuUserSeconds: usage.userCPUSeconds, cpuSysSeconds: usage.systemCPUSeconds,
            peakRSSBytes: ProcessFigures.peakRSSBytes() ?? usage.maxRSSBytes,
            voluntarySwitches: usage.voluntaryContextSwitches, involuntarySwitches: usage.involuntaryContextSwitches)
        if let server {
            record.server = try await server.figures(client: admin, cpuBefore: serverCPU)
        }
        let events =
            policy.events() + sink.events
            + (server == nil ? [] : cell.injectedErrorRateEvents(specServerJSON: spec.serverJSON))
        try store.insertEvents(events, cellID: record.id)
        try jsonl?.writeEvents(events, cellID: record.id)

        switch result {
        case .success(let summary):
            record.status = "complete"
            record.elapsedNs = summary.elapsed.nanoseconds
            record.maxLatenessNs = summary.maxLateness.nanoseconds
            try store.completeCell(record)
            try jsonl?.writeCell(record)
            try jsonl?.flush()
            let seconds = Double(record.elapsedNs) / 1e9
            let rps = seconds > 0 ? Double(summary.completedRequests) / seconds : 0
            return "\(summary.completedRequests) requests, \(stored) samples, \(Int(rps.rounded())) req/s"
        case .failure(let error):
            record.status = "failed"
            record.error = "\(error)"
            try store.completeCell(record)
            try jsonl?.writeCell(record)
            try jsonl?.flush()
            return "FAILED: \(error)"
        }
    }

    /// The path of an executable built beside the running one.
    static func siblingExecutable(_ name: String) -> String {
        let me =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return ((me as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name)
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
