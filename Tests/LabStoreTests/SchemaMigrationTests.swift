import Foundation
import TestSupport
import Testing

@testable import LabStore

/// Schema version 4: reference figures (wrk cells) and actual request counts.
@Suite struct SchemaMigrationTests {
    /// The migrations up to `version`, applied to a fresh database at `path`, as a build of that version left it.
    private func database(atVersion version: Int, path: String) throws {
        let database = try SQLiteDatabase(path: path, mode: .readWriteCreate)
        try database.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for migration in Schema.migrations.prefix(version) { try database.execute(migration) }
        try database.run("INSERT INTO schema_version (version) VALUES (?)", [.integer(Int64(version))])
    }

    private func columns(_ path: String, table: String) throws -> [String] {
        try SQLiteDatabase(path: path, mode: .readWrite).query("PRAGMA table_info(\(table))").compactMap {
            $0["name"].string
        }
    }

    @Test func aVersion3DatabaseOpensAndGainsTheReferenceColumns() throws {
        try withTemporaryFolder("labstore") { folder in
            let path = folder.appendingPathComponent("v3.sqlite").path
            try database(atVersion: 3, path: path)
            #expect(try !columns(path, table: "cells").contains("reference_rps"))
            // A version-3 cell, written before the migration, reads back without reference figures.
            do {
                let old = try LabStore.openForReading(path: path)
                #expect(try old.schemaVersion() == 3)
            }
            let store = try LabStore.openForWriting(path: path)
            #expect(try store.schemaVersion() == 4)
            let cellColumns = try columns(path, table: "cells")
            for column in [
                "reference_requests", "reference_rps", "reference_p50_ns", "reference_p99_ns", "reference_errors",
            ] {
                #expect(cellColumns.contains(column), "\(column)")
                #expect(try columns(path, table: "v_cells").contains(column), "v_cells.\(column)")
            }
            let runID = try store.insertRun(sampleRun())
            var cell = sampleCell(runID: runID)
            cell.id = try store.insertCell(cell)
            cell.status = .complete
            cell.plannedRequests = 7
            cell.warmupRequests = 2
            cell.reference = ReferenceFigures(
                requests: 1234, requestsPerSecond: 1234.5, p50Ns: 100_000, p99Ns: 900_000, errors: 3)
            try store.completeCell(cell)
            let read = try #require(try store.cells().first)
            #expect(read.reference == cell.reference)
            // completeCell stores the counts the engine actually ran.
            #expect(read.plannedRequests == 7 && read.warmupRequests == 2)
        }
    }

    @Test func mergeKeepsReferenceFigures() throws {
        try withTemporaryFolder("labstore") { folder in
            let source = folder.appendingPathComponent("a.sqlite").path
            let target = folder.appendingPathComponent("b.sqlite").path
            let store = try LabStore.openForWriting(path: source)
            let runID = try store.insertRun(sampleRun())
            var cell = sampleCell(runID: runID)
            cell.engine = "wrk"
            cell.id = try store.insertCell(cell)
            cell.status = .complete
            cell.reference = ReferenceFigures(
                requests: 10, requestsPerSecond: 10, p50Ns: 1_000, p99Ns: 2_000, errors: 0)
            try store.completeCell(cell)
            let merged = try LabStore.openForWriting(path: target)
            #expect(try merged.merge(from: source) == 1)
            #expect(try merged.cells().first?.reference == cell.reference)
        }
    }
}
