import AsyncPatterns
import LabStore

@testable import Reporting

extension RunRecord {
    /// A running run of `experiment` from `spec` (JSON text), for the databases tests construct by hand.
    static func constructed(_ experiment: String, spec: String) -> RunRecord {
        RunRecord(
            experiment: experiment, status: .running, startedAt: "2026-01-01T00:00:00Z", masterSeed: 1,
            specPath: "experiments/\(experiment).json", specText: spec, specSHA256: "0", commandLine: "test",
            gitCommit: "0000000000000000000000000000000000000000", gitDirty: false, swiftVersion: "6", os: "Linux",
            kernel: "0", cpuModel: "CPU", cores: 2, memoryBytes: 1 << 30, target: "mock")
    }
}

enum ConstructedRun {
    /// The report model of a database built by hand in a temporary folder (removed afterwards): a run of `name` from
    /// `spec` (JSON text), whose cells `cells` writes into the store under the run's id, then ended; its one
    /// experiment.
    static func experiment(
        _ name: String, spec: String, cells: (_ store: LabStore, _ runID: Int64) throws -> Void
    ) throws -> ExperimentModel {
        let folder = try TestSupport.temporaryFolder(name)
        defer { TestSupport.cleanUp(folder) }
        let path = folder.appendingPathComponent("lab.sqlite").path
        let store = try LabStore.openForWriting(path: path)
        let runID = try store.insertRun(RunRecord.constructed(name, spec: spec))
        try cells(store, runID)
        try store.finishRun(id: runID, status: .complete, endedAt: "2026-01-01T00:01:00Z")
        let model = try ModelBuilder.build(store: try LabStore.openForReading(path: path), bootstrapResamples: 200)
        guard let experiment = model.experiments.first else { throw ConstructedRunError.noExperiment(path) }
        return experiment
    }

    /// Adds a complete cell of `engine` at `concurrency` to run `runID`: its `requests` successful requests of 1 ms,
    /// one every `spacingNs` (each sent when intended), the cell's wall time `elapsedNs`, the client's and server's
    /// figures given, and `load` (JSON members, such as `"load":"poisson","rate":1000`) among its parameters.
    static func addCell(
        _ store: LabStore, runID: Int64, experiment: String, engine: String, concurrency: Int, repetition: Int,
        elapsedNs: Int64, client: ResourceFigures, server: ServerFigures? = nil, load: String = "",
        requests: Int = 1, spacingNs: Int64 = 0
    ) throws {
        let extra = load.isEmpty ? "" : "," + load
        var cell = CellRecord(
            cellKey: "\(engine)-\(concurrency)-\(repetition)", runID: runID, experiment: experiment, engine: engine,
            concurrency: concurrency, repetition: repetition,
            params: #"{"concurrency":\#(concurrency),"engine":"\#(engine)"\#(extra)}"#, seed: 1, status: .running,
            plannedRequests: requests, warmupRequests: 0, startedAt: "2026-01-01T00:00:00Z")
        cell.id = try store.insertCell(cell)
        try store.insertSamples(
            (0..<requests).map { id in
                let sentNs = Int64(id) * spacingNs
                return AttemptSample(
                    requestID: Int64(id), attempt: 1, intendedNs: sentNs, startNs: sentNs, endNs: sentNs + 1_000_000,
                    status: 200, errorClass: .ok, bytes: 1, isFinal: true, isWarmup: false)
            }, cellID: cell.id)
        cell.client = client
        cell.server = server
        cell.status = .complete
        cell.elapsedNs = elapsedNs
        try store.completeCell(cell)
    }

    /// `experiment`'s page as the report renders it, without charts.
    static func page(_ experiment: ExperimentModel) -> String {
        MarkdownRenderer(
            model: ReportModel(experiments: [experiment], runs: [], sampleCount: 0), displayDirectory: "reports",
            databasePath: "lab.sqlite", resamples: 200
        ).page(for: experiment, charts: [], status: [:])
    }

    enum ConstructedRunError: Error { case noExperiment(String) }
}
