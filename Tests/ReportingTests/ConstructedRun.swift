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
    /// Ends run `runID` in `store` and builds the report model of the database at `path`: its one experiment.
    static func finish(_ store: LabStore, runID: Int64, path: String) throws -> ExperimentModel {
        try store.finishRun(id: runID, status: .complete, endedAt: "2026-01-01T00:01:00Z")
        let model = try ModelBuilder.build(store: try LabStore.openForReading(path: path), bootstrapResamples: 200)
        guard let experiment = model.experiments.first else { throw ConstructedRunError.noExperiment(path) }
        return experiment
    }

    enum ConstructedRunError: Error { case noExperiment(String) }
}
