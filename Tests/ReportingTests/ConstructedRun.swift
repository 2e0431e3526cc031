import LabStore

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
