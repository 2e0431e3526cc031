import Foundation
import LabStore
import ReportingSynthetic
import Testing

@testable import Reporting

/// The report decodes `cells.params` into the shared `CellParameters` and reads values through `ParameterName`.
@Suite struct CellParametersModelTests {
    @Test func pointsReadTheirParametersThroughTheEnum() throws {
        let experiment = try TestSupport.syntheticExperiment(
            SyntheticLab.Configuration(
                name: "typed", engines: ["sync", "async"], concurrencies: [1, 4], errorRates: [0.2],
                retries: ["none"], rates: [50], requests: 20, warmup: 2, repetitions: 2))
        #expect(!experiment.points.isEmpty)
        for point in experiment.points {
            #expect(point.params[.concurrency] == .int(point.concurrency))
            #expect(point.params[.errorRate] == .double(0.2))
            #expect(point.params[.rate] == .double(50))
            #expect(point.params[.load] == .string("open"))
            #expect(point.params.engine == point.engine)
            // A key that names no parameter is kept, by its stored name.
            #expect(point.params[key: "retry"] == .string("none"))
            #expect(point.isOpenLoop)
        }
        for cell in experiment.cells.joined() {
            #expect(cell.params.canonicalJSON == cell.cell.params)
        }
    }

    /// A database the runner wrote (before the vocabulary was typed) reads into the same model.
    @Test func aRunnersDatabaseReadsIntoTheModel() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("LabTests/Fixtures/pre-vocabulary.sqlite")
        let folder = try TestSupport.temporaryFolder("pre-vocabulary")
        defer { TestSupport.cleanUp(folder) }
        let path = folder.appendingPathComponent("old.sqlite").path
        try FileManager.default.copyItem(atPath: fixture.path, toPath: path)
        let model = try ModelBuilder.build(store: try LabStore.openForReading(path: path), bootstrapResamples: 50)
        let experiment = try #require(model.experiments.first)
        #expect(experiment.points.count == 6)
        for point in experiment.points {
            #expect(point.params[.budget] == .string("token:10"))
            #expect(point.params[.maxAttempts] == .int(3))
            #expect(point.params[.latencyMs] == .double(1))
            let backoff = try #require(point.params[.backoff]?.string)
            #expect(["off", "full"].contains(backoff))
            #expect(point.coordinate(ParameterName.backoff.rawValue) == .string(backoff))
            #expect(!point.isOpenLoop)
        }
    }
}
