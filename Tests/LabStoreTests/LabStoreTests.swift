import AsyncPatterns
import Foundation
import TestSupport
import Testing

@testable import LabStore

func sampleRun() -> RunRecord {
    RunRecord(
        experiment: "demo", status: .running, startedAt: "2026-01-01T00:00:00Z", masterSeed: 42,
        specPath: "experiments/demo.json", specText: "{}", specSHA256: "00", commandLine: "experiments run",
        gitCommit: "abc", gitDirty: false, swiftVersion: "6.3", os: "Linux", kernel: "6", cpuModel: "cpu", cores: 2,
        memoryBytes: 1, target: "mock")
}

func sampleCell(runID: Int64, key: String = "k1") -> CellRecord {
    CellRecord(
        cellKey: key, runID: runID, experiment: "demo", engine: "sync", concurrency: 1, repetition: 0,
        params: #"{"engine":"sync"}"#, seed: UInt64.max, status: .running, plannedRequests: 3, warmupRequests: 0,
        startedAt: "2026-01-01T00:00:00Z")
}

func samples(_ count: Int) -> [AttemptSample] {
    (0..<count).map {
        AttemptSample(
            requestID: Int64($0), attempt: 1, intendedNs: Int64($0) * 10, startNs: Int64($0) * 10,
            endNs: Int64($0) * 10 + 5, status: 200, errorClass: .ok, bytes: 2, isFinal: true)
    }
}

/// `count` final attempts that failed with a 500.
func failedSamples(_ count: Int) -> [AttemptSample] {
    samples(count).map { sample in
        var failed = sample
        failed.status = 500
        failed.errorClass = .http5xx
        return failed
    }
}

/// A cell's samples as stored, in insertion order.
func storedSamples(_ store: LabStore, cellID: Int64) throws -> [AttemptSample] {
    var read: [AttemptSample] = []
    try store.forEachSample(cellID: cellID) { read.append($0) }
    return read
}

@Suite struct LabStoreTests {
    @Test func roundTripsRunsCellsSamplesAndEvents() throws {
        try withTemporaryFolder("labstore") { dir in
            let path = dir.appendingPathComponent("lab.sqlite").path
            let store = try LabStore.openForWriting(path: path)
            let runID = try store.insertRun(sampleRun())
            var cell = sampleCell(runID: runID)
            cell.id = try store.insertCell(cell)
            try store.insertSamples(samples(3), cellID: cell.id)
            try store.insertEvents(
                [EventRecord(tNs: 5, kind: .breakerTransition, detail: "closed->open")], cellID: cell.id)
            cell.status = .complete
            cell.client = ResourceFigures(
                cpuUserSeconds: 1, cpuSysSeconds: 2, peakRSSBytes: 3, voluntarySwitches: 4, involuntarySwitches: 5)
            try store.completeCell(cell)

            let reader = try LabStore.openForReading(path: path)
            #expect(try reader.runs().map(\.experiment) == ["demo"])
            let cells = try reader.cells()
            #expect(cells == [cell])
            var read: [AttemptSample] = []
            try reader.forEachSample(cellID: cell.id) { read.append($0) }
            #expect(read == samples(3))
            #expect(try reader.events(cellID: cell.id).map(\.detail) == ["closed->open"])
        }
    }

    /// A re-run cell replaces the earlier one: only the second run's samples, which differ in count and content,
    /// remain.
    @Test func completingACellReplacesEarlierCellsWithTheSameKey() throws {
        try withTemporaryFolder("labstore") { dir in
            let store = try LabStore.openForWriting(path: dir.appendingPathComponent("lab.sqlite").path)
            let runID = try store.insertRun(sampleRun())
            let first = failedSamples(3)
            let second = samples(5)
            var cellIDs: [Int64] = []
            for batch in [first, second] {
                var cell = sampleCell(runID: runID)
                cell.id = try store.insertCell(cell)
                try store.insertSamples(batch, cellID: cell.id)
                cell.status = .complete
                try store.completeCell(cell)
                cellIDs.append(cell.id)
            }
            #expect(try store.cells().map(\.id) == [cellIDs[1]])
            #expect(try storedSamples(store, cellID: cellIDs[1]) == second)
            #expect(try storedSamples(store, cellID: cellIDs[0]).isEmpty)
            let count = try store.database.query("SELECT count(*) AS n FROM samples").first?["n"].int
            #expect(count == Int64(second.count))
        }
    }

    /// Merging copies each cell with its own samples and events: cells of different sample counts and fault sets
    /// keep them, and a cell present in two sources ends with the later source's samples.
    @Test func mergeCopiesEachCellWithItsOwnSamples() throws {
        try withTemporaryFolder("labstore") { dir in
            // Source A: k1 with 3 good samples, k2 with 5 failed ones; source B: k2 again with 4 good, k3 with 2.
            let contents: [[(key: String, samples: [AttemptSample])]] = [
                [("k1", samples(3)), ("k2", failedSamples(5))],
                [("k2", samples(4)), ("k3", failedSamples(2))],
            ]
            var sources: [String] = []
            for (index, cells) in contents.enumerated() {
                let path = dir.appendingPathComponent("shard\(index).sqlite").path
                let store = try LabStore.openForWriting(path: path)
                let runID = try store.insertRun(sampleRun())
                for (key, batch) in cells {
                    var cell = sampleCell(runID: runID, key: key)
                    cell.id = try store.insertCell(cell)
                    try store.insertSamples(batch, cellID: cell.id)
                    try store.insertEvents([EventRecord(tNs: 1, kind: .other("mark"), detail: key)], cellID: cell.id)
                    cell.status = .complete
                    try store.completeCell(cell)
                }
                sources.append(path)
            }
            let merged = try LabStore.openForWriting(path: dir.appendingPathComponent("merged.sqlite").path)
            #expect(try merged.merge(from: sources[0]) == 2)
            #expect(try merged.merge(from: sources[1]) == 2)
            let expected = ["k1": samples(3), "k2": samples(4), "k3": failedSamples(2)]
            let cells = try merged.cells()
            #expect(cells.map(\.cellKey).sorted() == expected.keys.sorted())
            for cell in cells {
                #expect(try storedSamples(merged, cellID: cell.id) == expected[cell.cellKey], "\(cell.cellKey)")
                #expect(try merged.events(cellID: cell.id).map(\.detail) == [cell.cellKey])
            }
            #expect(try merged.runs().count == 2)
        }
    }

    @Test func refusesANewerSchemaAndLeavesItUntouched() throws {
        try withTemporaryFolder("labstore") { dir in
            let path = dir.appendingPathComponent("lab.sqlite").path
            do {
                let db = try SQLiteDatabase(path: path)
                try db.execute(
                    "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (99);")
            }
            let before = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect {
                _ = try LabStore.openForWriting(path: path)
            } throws: { error in
                "\(error)".contains("schema version 99 is newer") && "\(error)".contains(path)
            }
            #expect(throws: StoreError.self) { _ = try LabStore.openForReading(path: path) }
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        }
    }

    @Test func refusesAForeignDatabase() throws {
        try withTemporaryFolder("labstore") { dir in
            let path = dir.appendingPathComponent("other.sqlite").path
            do { try SQLiteDatabase(path: path).execute("CREATE TABLE users (name TEXT)") }
            #expect {
                _ = try LabStore.openForWriting(path: path)
            } throws: { error in
                "\(error)".contains("not an async-patterns database")
            }
        }
    }

    @Test func reportsANonSQLiteFileClearly() throws {
        try withTemporaryFolder("labstore") { dir in
            let path = dir.appendingPathComponent("notes.sqlite").path
            try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
            #expect {
                _ = try LabStore.openForWriting(path: path)
            } throws: { error in
                "\(error)".contains(path) && "\(error)".contains("not a valid SQLite database")
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(repeating: 0x41, count: 4096))
        }
    }

    @Test func reportsAMissingFolder() throws {
        #expect {
            _ = try LabStore.openForWriting(path: "/nonexistent-folder-xyz/lab.sqlite")
        } throws: { error in
            "\(error)".contains("/nonexistent-folder-xyz/lab.sqlite")
        }
    }

    @Test func reportsAReadOnlyPath() throws {
        // /proc is read-only even for root, unlike a chmod-ed folder.
        #expect {
            _ = try LabStore.openForWriting(path: "/proc/lab.sqlite")
        } throws: { error in
            "\(error)".contains("/proc/lab.sqlite") && "\(error)".contains("--db")
                || "\(error)".contains("/proc/lab.sqlite") && "\(error)".contains("writable")
        }
        #expect(!FileManager.default.fileExists(atPath: "/proc/lab.sqlite"))
    }

    @Test func reportsALockedDatabase() throws {
        try withTemporaryFolder("labstore") { dir in
            let path = dir.appendingPathComponent("lab.sqlite").path
            let holder = try LabStore.openForWriting(path: path)
            try holder.database.execute("BEGIN EXCLUSIVE")
            defer { try? holder.database.execute("ROLLBACK") }
            let other = try SQLiteDatabase(path: path, busyTimeout: .milliseconds(50))
            #expect {
                try other.run("INSERT INTO runs (experiment) VALUES ('x')")
            } throws: { error in
                (error as? StoreError)?.label == "locked"
            }
        }
    }
}
