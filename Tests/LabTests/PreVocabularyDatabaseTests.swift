import Foundation
import LabStore
import Testing

@testable import Lab

/// `Fixtures/pre-vocabulary.sqlite` was written by the runner of commit 09544f0's tree, before parameters, statuses
/// and event kinds were typed, from `Fixtures/pre-vocabulary.json` (6 cells). The typed code must recognise its cells:
/// the same ids from the same spec, nothing re-run by `--resume`, and a merge that keeps every cell.
@Suite(.serialized, .timeLimit(.minutes(2))) struct PreVocabularyDatabaseTests {
    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Fixtures"
    private static let spec = fixtures + "/pre-vocabulary.json"

    /// A copy of the fixture in a new folder, so the test never writes the committed file.
    private func copyOfFixture() throws -> String {
        let folder = try temporaryFolder()
        let path = folder + "/old.sqlite"
        try FileManager.default.copyItem(atPath: Self.fixtures + "/pre-vocabulary.sqlite", toPath: path)
        return path
    }

    @Test func theSpecGivesTheStoredCellIds() throws {
        let stored = try LabStore.openForReading(path: try copyOfFixture()).cells()
        let grid = try ExperimentSpec.load(path: Self.spec).grid()
        #expect(stored.count == 6)
        #expect(Set(stored.map(\.cellKey)) == Set(grid.map(\.key)))
        for cell in grid {
            let old = try #require(stored.first { $0.cellKey == cell.key })
            #expect(old.params == cell.canonicalParameters, "cell \(cell.key): its canonical parameters changed")
            #expect(old.seed == cell.seed(master: 11))
        }
    }

    /// The shared model reads each stored cell back as exactly the parameters the grid plans for it.
    @Test func storedParametersDecodeToThePlannedParameters() throws {
        let stored = try LabStore.openForReading(path: try copyOfFixture()).cells()
        for cell in try ExperimentSpec.load(path: Self.spec).grid() {
            let old = try #require(stored.first { $0.cellKey == cell.key })
            let decoded = try CellParameters(json: old.params)
            #expect(decoded == cell.parameters, "cell \(cell.key)")
            #expect(decoded.canonicalJSON == old.params)
        }
    }

    @Test func resumeFindsEveryCellDone() throws {
        let db = try copyOfFixture()
        let resumed = try runExperiments(["run", Self.spec, "--db", db, "--no-pin", "--resume"])
        #expect(resumed.status == 0, "\(resumed.errors)")
        #expect(resumed.output.contains("0 cells run, 6 already complete"), "\(resumed.output)")
        let store = try LabStore.openForReading(path: db)
        #expect(try store.cells().count == 6)
        #expect(try store.runs().map(\.status) == [.complete])
    }

    @Test func mergeKeepsEveryCellAndItsSamples() throws {
        let old = try copyOfFixture()
        let merged = (old as NSString).deletingLastPathComponent + "/merged.sqlite"
        let result = try runExperiments(["merge", "--into", merged, old])
        #expect(result.status == 0, "\(result.errors)")
        let before = try LabStore.openForReading(path: old)
        let after = try LabStore.openForReading(path: merged)
        #expect(Set(try after.cells().map(\.cellKey)) == Set(try before.cells().map(\.cellKey)))
        for cell in try before.cells() {
            let copy = try #require(try after.cells().first { $0.cellKey == cell.cellKey })
            #expect(try count(after, copy.id) == count(before, cell.id) && count(before, cell.id) >= 10)
        }
    }

    private func count(_ store: LabStore, _ cellID: Int64) throws -> Int {
        var n = 0
        try store.forEachSample(cellID: cellID) { _ in n += 1 }
        return n
    }
}
