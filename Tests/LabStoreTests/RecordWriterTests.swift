import AsyncPatterns
import Foundation
import TestSupport
import Testing

@testable import LabStore

/// A writer that keeps what it is given, assigns no ids, and fails on the operations it is told to.
private final class RecordingWriter: RecordWriter {
    struct Failure: Error, Equatable {
        var operation: String
    }

    private let failing: Set<String>
    private(set) var runs: [RunRecord] = []
    private(set) var cells: [CellRecord] = []
    private(set) var samples: [Int64: [AttemptSample]] = [:]
    private(set) var calls: [String] = []

    init(failing: Set<String> = []) {
        self.failing = failing
    }

    private func call(_ operation: String) throws {
        if failing.contains(operation) { throw Failure(operation: operation) }
        calls.append(operation)
    }

    func insertRun(_ run: RunRecord) throws -> Int64 {
        try call("insertRun")
        runs.append(run)
        return run.id
    }

    func finishRun(id: Int64, status: RunStatus, endedAt: String) throws { try call("finishRun") }

    func insertCell(_ cell: CellRecord) throws -> Int64 {
        try call("insertCell")
        cells.append(cell)
        return cell.id
    }

    func completeCell(_ cell: CellRecord) throws {
        try call("completeCell")
        cells.append(cell)
    }

    func insertSamples<C: Collection<AttemptSample>>(_ samples: C, cellID: Int64) throws {
        try call("insertSamples")
        self.samples[cellID, default: []] += samples
    }

    func insertEvents(_ events: [EventRecord], cellID: Int64) throws { try call("insertEvents") }
    func deleteUnfinishedCells() throws { try call("deleteUnfinishedCells") }
    func flush() throws { try call("flush") }
}

@Suite(.timeLimit(.minutes(1)))
struct RecordWriterTests {
    /// What a sweep writes, through a tee of the store and a JSONL file: a run, a cell re-run (the later one
    /// replaces the earlier), a cell left unfinished and then dropped, samples and events. Both outputs read back the
    /// same, under the ids the store assigned.
    @Test func theTeeWritesTheSameRecordsToTheStoreAndTheJSONLFile() throws {
        try withTemporaryFolder("record-writer") { folder in
            let sqlitePath = folder.appendingPathComponent("lab.sqlite").path
            let jsonlPath = folder.appendingPathComponent("lab.jsonl").path
            let store = try LabStore.openForWriting(path: sqlitePath)
            let jsonl = try JSONLWriter(path: jsonlPath, append: false)
            let tee = TeeRecordWriter([store, jsonl])

            let runID = try tee.insertRun(sampleRun())
            #expect(runID != 0)
            let events = [
                EventRecord(tNs: 20, kind: .lagNs, value: 1500),
                EventRecord(tNs: 10, kind: .breakerTransition, detail: "closed->open"),
            ]
            var cellIDs: [Int64] = []
            for (index, key) in ["rerun", "rerun", "kept", "unfinished"].enumerated() {
                var cell = sampleCell(runID: runID, key: key)
                cell.repetition = index
                cell.id = try tee.insertCell(cell)
                cellIDs.append(cell.id)
                try tee.insertSamples(samples(100 + index), cellID: cell.id)
                try tee.insertEvents(events, cellID: cell.id)
                guard key != "unfinished" else { continue }
                cell.status = .complete
                cell.elapsedNs = 1_000 + Int64(index)
                cell.client = ResourceFigures(
                    cpuUserSeconds: 0.25, cpuSysSeconds: 0.5, peakRSSBytes: 1 << 20, voluntarySwitches: 1,
                    involuntarySwitches: 2)
                try tee.completeCell(cell)
            }
            try tee.deleteUnfinishedCells()
            try tee.finishRun(id: runID, status: .complete, endedAt: "2026-01-01T01:00:00Z")
            try tee.flush()
            try jsonl.close()

            #expect(Set(cellIDs).count == 4)
            let contents = try JSONLReader.read(path: jsonlPath)
            let reader = try LabStore.openForReading(path: sqlitePath)
            #expect(try reader.runs() == contents.runs)
            #expect(contents.runs.map(\.id) == [runID])
            #expect(contents.runs.first?.status == .complete)
            let cells = try reader.cells(status: .complete) + reader.cells(status: .running)
            #expect(cells.sorted { $0.id < $1.id } == contents.cells)
            #expect(contents.cells.map(\.id) == [cellIDs[1], cellIDs[2]])
            for cell in contents.cells {
                #expect(try storedSamples(reader, cellID: cell.id) == contents.samples[cell.id])
                #expect(try reader.events(cellID: cell.id) == contents.events[cell.id])
                #expect(contents.samples[cell.id]?.count == 100 + cell.repetition)
            }
        }
    }

    /// A cell child's database, imported into the store with `importCell`, reaches the JSONL file through
    /// `copyCell`: the same samples and events as the store holds.
    @Test func anImportedCellIsCopiedFromTheStoreToTheOtherWriters() throws {
        try withTemporaryFolder("record-writer") { folder in
            let childPath = folder.appendingPathComponent("child.sqlite").path
            do {
                let child = try LabStore.openForWriting(path: childPath)
                var cell = sampleCell(runID: try child.insertRun(sampleRun()))
                cell.id = try child.insertCell(cell)
                try child.insertSamples(failedSamples(20_000), cellID: cell.id)
                try child.insertEvents(
                    [
                        EventRecord(tNs: 7, kind: .queueDepth, value: 3),
                        EventRecord(tNs: 1, kind: .lagNs, value: 9),
                    ],
                    cellID: cell.id)
                cell.status = .complete
                try child.completeCell(cell)
            }
            let store = try LabStore.openForWriting(path: folder.appendingPathComponent("lab.sqlite").path)
            let jsonlPath = folder.appendingPathComponent("lab.jsonl").path
            let jsonl = try JSONLWriter(path: jsonlPath, append: false)
            let tee = TeeRecordWriter([store, jsonl])
            var cell = sampleCell(runID: try tee.insertRun(sampleRun()))
            cell.id = try tee.insertCell(cell)
            let imported = try store.importCell(from: childPath, into: cell.id)
            try tee.copyCell(cell.id, from: store, batchSize: 8192)
            cell.status = imported.status
            try tee.completeCell(cell)
            try jsonl.close()

            let contents = try JSONLReader.read(path: jsonlPath)
            let stored = try storedSamples(store, cellID: cell.id)
            #expect(stored.count == 20_000)
            #expect(contents.samples[cell.id] == stored)
            #expect(contents.events[cell.id] == (try store.events(cellID: cell.id)))
            #expect(contents.events[cell.id]?.map(\.tNs) == [1, 7])
            #expect(contents.cells == (try store.cells()))
        }
    }

    /// The store assigns the ids; a writer after it receives each record with them.
    @Test func laterWritersReceiveTheIDsTheFirstAssigned() throws {
        try withTemporaryFolder("record-writer") { folder in
            let store = try LabStore.openForWriting(path: folder.appendingPathComponent("lab.sqlite").path)
            let recorder = RecordingWriter()
            let tee = TeeRecordWriter([store, recorder])
            _ = try tee.insertRun(sampleRun())
            let runID = try tee.insertRun(sampleRun())
            let cellID = try tee.insertCell(sampleCell(runID: runID))
            try tee.insertSamples(samples(3), cellID: cellID)
            #expect(runID == 2)
            #expect(recorder.runs.map(\.id) == [1, 2])
            #expect(recorder.cells.map(\.id) == [cellID])
            #expect(recorder.cells.map(\.runID) == [runID])
            #expect(recorder.samples[cellID] == (try storedSamples(store, cellID: cellID)))
        }
    }

    /// A writer's error is thrown by the tee, and the writers after it do not get the record.
    @Test(arguments: ["insertRun", "insertSamples", "completeCell", "flush"])
    func aFailingWritersErrorSurfaces(operation: String) throws {
        let failing = RecordingWriter(failing: [operation])
        let after = RecordingWriter()
        let tee = TeeRecordWriter([RecordingWriter(), failing, after])
        var run = sampleRun()
        run.id = 1
        var cell = sampleCell(runID: 1)
        cell.id = 1
        #expect(throws: RecordingWriter.Failure(operation: operation)) {
            _ = try tee.insertRun(run)
            try tee.insertSamples(samples(2), cellID: cell.id)
            try tee.completeCell(cell)
            try tee.flush()
        }
        #expect(!after.calls.contains(operation))
        #expect(after.calls == failing.calls)
    }

    /// A full disk or a closed file in the JSONL writer surfaces as its `JSONLError`, after the store has the record.
    @Test func aClosedJSONLWritersErrorSurfacesThroughTheTee() throws {
        try withTemporaryFolder("record-writer") { folder in
            let store = try LabStore.openForWriting(path: folder.appendingPathComponent("lab.sqlite").path)
            let jsonl = try JSONLWriter(path: folder.appendingPathComponent("lab.jsonl").path, append: false)
            try jsonl.close()
            let tee = TeeRecordWriter([store, jsonl])
            #expect(throws: JSONLError.self) { _ = try tee.insertRun(sampleRun()) }
            #expect(try store.runs().count == 1)
        }
    }
}
