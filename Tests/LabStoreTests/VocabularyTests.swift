import AsyncPatterns
import Foundation
import TestSupport
import Testing

@testable import LabStore

/// The typed statuses and event kinds store the same text as the string literals they replaced, and text this
/// version does not know reads back as `.other` with the text kept, from SQLite and from JSON Lines.
@Suite struct VocabularyTests {
    @Test(
        arguments: zip(
            RunStatus.known, ["running", "complete", "interrupted", "failed", "abandoned"]))
    func runStatusStoresItsText(status: RunStatus, text: String) {
        #expect(status.rawValue == text)
        #expect(RunStatus(rawValue: text) == status)
    }

    @Test(arguments: zip(CellStatus.known, ["running", "complete", "failed"]))
    func cellStatusStoresItsText(status: CellStatus, text: String) {
        #expect(status.rawValue == text)
        #expect(CellStatus(rawValue: text) == status)
    }

    @Test(
        arguments: zip(
            EventKind.known,
            [
                "breaker_transition", "budget_exhausted", "budget_restored", "limiter", "injected_error_rate",
                "queue_depth", "lag_ns", "nio_lag_ns", "lag_max_ns", "lag_p95_ns", "nio_lag_max_ns", "nio_lag_p95_ns",
                "rss_bytes", "pipeline", "pipeline_dropped", "client_pid", "cell_process_ns", "speed_probe_ns",
            ]))
    func eventKindStoresItsText(kind: EventKind, text: String) {
        #expect(kind.rawValue == text)
        #expect(EventKind(rawValue: text) == kind)
    }

    /// A resilience policy's event is stored under its own label.
    @Test(arguments: ResilienceEvent.Kind.allCases)
    func resilienceEventKindKeepsItsLabel(kind: ResilienceEvent.Kind) {
        #expect(EventKind(kind).rawValue == kind.rawValue)
        #expect(EventKind.known.contains(EventKind(kind)))
    }

    @Test func everyKnownValueIsListedOnce() {
        #expect(Set(RunStatus.known).count == RunStatus.known.count)
        #expect(Set(CellStatus.known).count == CellStatus.known.count)
        #expect(Set(EventKind.known).count == EventKind.known.count)
        #expect(Set(EventKind.known.map(\.rawValue)).count == EventKind.known.count)
    }

    @Test func unknownTextIsKeptVerbatim() throws {
        #expect(RunStatus(rawValue: "paused") == .other("paused"))
        #expect(RunStatus.other("paused").rawValue == "paused")
        #expect(CellStatus(rawValue: "retrying") == .other("retrying"))
        #expect(EventKind(rawValue: "gc_pause_ns") == .other("gc_pause_ns"))
        #expect(EventKind(rawValue: "") == .other(""))
        // Codable encodes the bare text, as the String fields did.
        let encoded = try JSONEncoder().encode([RunStatus.complete, .other("paused")])
        #expect(String(decoding: encoded, as: UTF8.self) == #"["complete","paused"]"#)
        #expect(try JSONDecoder().decode([RunStatus].self, from: encoded) == [.complete, .other("paused")])
    }

    /// A database whose rows hold statuses and a kind this version never writes still reads, and the text is kept.
    @Test func unknownStoredTextReadsFromSQLite() throws {
        try withTemporaryFolder("vocabulary") { dir in
            let store = try LabStore.openForWriting(path: dir.appendingPathComponent("lab.sqlite").path)
            let runID = try store.insertRun(sampleRun())
            let cellID = try store.insertCell(sampleCell(runID: runID))
            try store.insertEvents([EventRecord(tNs: 1, kind: .lagNs, value: 2)], cellID: cellID)
            try store.database.run("UPDATE runs SET status = 'paused'")
            try store.database.run("UPDATE cells SET status = 'retrying'")
            try store.database.run("UPDATE events SET kind = 'gc_pause_ns'")

            #expect(try store.runs().map(\.status) == [.other("paused")])
            #expect(try store.cells(status: .complete).isEmpty)
            let cells = try store.cells(status: .other("retrying"))
            #expect(cells.map(\.status) == [.other("retrying")])
            #expect(try store.events(cellID: cellID).map(\.kind) == [.other("gc_pause_ns")])
            // Written back, the text is unchanged.
            try store.finishRun(id: runID, status: .other("paused"), endedAt: "2026-01-01T00:00:01Z")
            let text = try store.database.query("SELECT status FROM runs").first?["status"].string
            #expect(text == "paused")
        }
    }

    /// The same from JSON Lines: unknown statuses and kinds decode as `.other` instead of failing the line.
    @Test func unknownStoredTextReadsFromJSONLines() throws {
        try withTemporaryFolder("vocabulary") { dir in
            let path = dir.appendingPathComponent("lab.jsonl").path
            let writer = try JSONLWriter(path: path, append: false)
            var run = sampleRun()
            run.id = 1
            run.status = .other("paused")
            var cell = sampleCell(runID: 1)
            cell.id = 1
            cell.status = .other("retrying")
            try writer.writeRun(run)
            try writer.writeCell(cell)
            try writer.writeEvents([EventRecord(tNs: 3, kind: .other("gc_pause_ns"), value: 4)], cellID: 1)
            try writer.writeRunStatus(id: 1, status: .other("resting"), endedAt: "2026-01-01T00:00:01Z")
            try writer.close()

            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.contains(#""status":"retrying""#))
            #expect(text.contains(#""kind":"gc_pause_ns""#))
            let contents = try JSONLReader.read(path: path)
            #expect(contents.runs.map(\.status) == [.other("resting")])
            #expect(contents.cells.map(\.status) == [.other("retrying")])
            #expect(contents.events[1]?.map(\.kind) == [.other("gc_pause_ns")])
        }
    }
}
