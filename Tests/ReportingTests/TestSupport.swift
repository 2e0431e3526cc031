import Foundation
import LabStore
import ReportingSynthetic
import Testing

@testable import Reporting

/// Helpers shared by the report tests.
enum TestSupport {
    /// `Tests/ReportingTests/Fixtures`.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The committed fixture database (`.db`, since the repository ignores `*.sqlite`); regenerated with
    /// `REGENERATE_FIXTURES=1 swift test`.
    static var fixtureDatabase: String {
        get throws {
            let path = fixtures.appendingPathComponent("lab.db").path
            if ProcessInfo.processInfo.environment["REGENERATE_FIXTURES"] == "1" {
                try? FileManager.default.removeItem(atPath: path)
                try writeFixture(path: path)
            }
            return path
        }
    }

    /// The fixture: a throughput sweep (4 repetitions, so rank tests can mark differences significant) and a
    /// retry sweep (3 repetitions, so they cannot), small enough to commit.
    static func writeFixture(path: String) throws {
        try SyntheticLab.write(
            path: path,
            SyntheticLab.Configuration(
                name: "throughput", question: "How much faster is async than a threaded pool or a sequential loop?",
                concurrencies: [1, 4, 16], requests: 60, warmup: 6, repetitions: 4, seed: 42))
        try SyntheticLab.write(
            path: path,
            SyntheticLab.Configuration(
                name: "retries", question: "What do retries buy when the server fails, and what do they cost?",
                engines: ["sync", "async"], concurrencies: [4], errorRates: [0, 0.2], retries: ["none", "exponential"],
                requests: 60, warmup: 6, repetitions: 3, seed: 7))
        // One self-contained file: no -wal or -shm beside it in the repository.
        try SQLiteDatabase(path: path, mode: .readWrite).execute("PRAGMA journal_mode = DELETE")
    }

    /// A small synthetic database in `folder` (two experiments, a few hundred samples), for tests that render
    /// many times.
    static func smallDatabase(in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("small.sqlite").path
        try SyntheticLab.write(
            path: path,
            SyntheticLab.Configuration(
                name: "throughput", concurrencies: [1, 4], requests: 20, warmup: 2, repetitions: 2))
        try SyntheticLab.write(
            path: path,
            SyntheticLab.Configuration(
                name: "retries", engines: ["sync", "async"], concurrencies: [2], errorRates: [0, 0.3],
                retries: ["none", "exponential"], requests: 20, warmup: 2, repetitions: 2))
        return path
    }

    /// Writes a synthetic database of `configuration` in a temporary folder, runs `edit` on it, and builds the
    /// model of its one experiment.
    static func syntheticExperiment(
        _ configuration: SyntheticLab.Configuration, edit: (SQLiteDatabase) throws -> Void = { _ in }
    ) throws -> ExperimentModel {
        let folder = try temporaryFolder("synthetic")
        defer { cleanUp(folder) }
        let path = folder.appendingPathComponent("lab.sqlite").path
        try SyntheticLab.write(path: path, configuration)
        try edit(SQLiteDatabase(path: path, mode: .readWrite))
        let model = try ModelBuilder.build(store: try LabStore.openForReading(path: path), bootstrapResamples: 200)
        return try #require(model.experiments.first)
    }

    /// A fresh temporary folder.
    static func temporaryFolder(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "reporting-tests-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Removes a temporary folder, unless `REPORT_TEST_KEEP=1` asks to keep it for inspection.
    static func cleanUp(_ url: URL) {
        if ProcessInfo.processInfo.environment["REPORT_TEST_KEEP"] == "1" {
            print("kept \(url.path)")
            return
        }
        try? FileManager.default.removeItem(at: url)
    }

    /// Every regular file under `root`, relative, sorted.
    static func files(under root: URL) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: root.path) else { return [] }
        var out: [String] = []
        while let path = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(
                atPath: root.appendingPathComponent(path).path, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                out.append(path)
            }
        }
        return out.sorted()
    }

    static func read(_ url: URL) -> String {
        (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }

    /// Whether gnuplot is installed here.
    static var hasGnuplot: Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/gnuplot") }
    }

    /// What a test that renders charts says when gnuplot is missing.
    static let gnuplotRequired: Comment = "gnuplot is required: apt-get install -y gnuplot-nox, or run make test"

    /// Fails the calling test, never skips it, when gnuplot is missing: `make test` installs it (`make deps`), so
    /// a machine without it is not set up to run the tests. Tests of the no-gnuplot path fake its absence instead.
    static func requireGnuplot(sourceLocation: SourceLocation = #_sourceLocation) throws {
        try #require(hasGnuplot, gnuplotRequired, sourceLocation: sourceLocation)
    }
}
