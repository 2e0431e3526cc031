import AsyncPatterns
import Foundation
import LabStore
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(1)))
struct JSONLWriterTests {
    /// Writes the same run, cells (one re-run replacing another), samples and events through both writers —
    /// the samples through a pipeline, as a run does — and reads both back.
    @Test func sqliteAndJSONLHoldTheSameRecords() throws {
        try withTemporaryFolder { folder in
            let sqlitePath = folder.appendingPathComponent("lab.sqlite").path
            let jsonlPath = folder.appendingPathComponent("lab.jsonl").path
            let store = try LabStore.openForWriting(path: sqlitePath)
            let jsonl = try JSONLWriter(path: jsonlPath, append: false, bufferBytes: 64 * 1024)

            var run = testRun()
            run.id = try store.insertRun(run)
            try jsonl.writeRun(run)

            var cellIDs: [Int64] = []
            for (index, key) in ["replaced", "replaced", "kept", "unfinished"].enumerated() {
                var cell = testCell(runID: run.id, key: key)
                cell.repetition = index
                cell.id = try store.insertCell(cell)
                try jsonl.writeCell(cell)
                cellIDs.append(cell.id)

                let pipeline = Pipeline<AttemptSample>(
                    configuration: PipelineConfiguration(capacity: 4_096, maxBatchSize: 1_000))
                let writers = Exclusive((store, jsonl))
                let cellID = cell.id
                pipeline.startConsumer { batch in
                    try writers.value.0.insertSamples(batch, cellID: cellID)
                    try writers.value.1.writeSamples(batch, cellID: cellID)
                    try writers.value.1.flush()
                }
                let sink = PipelineSink(pipeline)
                for sequence in 0..<5_000 { sink.record(tagged(producer: index, sequence: sequence)) }
                let metrics = try pipeline.finish()
                #expect(metrics.consumed == 5_000)

                let events = [
                    EventRecord(tNs: 30, kind: .lagNs, value: 1.5e-7),
                    EventRecord(tNs: 10, kind: .breakerTransition, detail: "closed->open: rate 0.62 >= 0.5"),
                    EventRecord(tNs: 10, kind: .queueDepth, value: 4096),
                    EventRecord(tNs: 20, kind: .other("note"), value: nil, detail: "tab\there \"q\" \\ \u{7}"),
                ]
                try store.insertEvents(events, cellID: cell.id)
                try jsonl.writeEvents(events, cellID: cell.id)

                guard key != "unfinished" else { continue }
                cell.status = .complete
                cell.elapsedNs = 123_456_789
                cell.maxLatenessNs = 42
                cell.client = ResourceFigures(
                    cpuUserSeconds: 0.1 + Double(index), cpuSysSeconds: 1.0 / 3.0, peakRSSBytes: 1 << 40,
                    voluntarySwitches: 5, involuntarySwitches: 6)
                if index == 2 {
                    cell.server = ServerFigures(
                        requests: 9, connections: 2, serviceMeanNs: 12.25, serviceP99Ns: 1e9, cpuUserSeconds: 0.5,
                        countersJSON: #"{"requests":9}"#)
                    cell.error = "partial: \"x\""
                }
                try store.completeCell(cell)
                try jsonl.writeCell(cell)
            }
            try store.finishRun(id: run.id, status: .complete, endedAt: "2026-01-01T01:00:00Z")
            try jsonl.writeRunStatus(id: run.id, status: .complete, endedAt: "2026-01-01T01:00:00Z")
            try jsonl.close()

            let contents = try JSONLReader.read(path: jsonlPath)
            let reader = try LabStore.openForReading(path: sqlitePath)
            #expect(!contents.tornTail)
            #expect(try reader.runs() == contents.runs)
            let sqliteCells = try reader.cells(status: .complete) + reader.cells(status: .running)
            #expect(sqliteCells.sorted { $0.id < $1.id } == contents.cells)
            #expect(contents.cells.map(\.cellKey) == ["replaced", "kept", "unfinished"])
            #expect(contents.cells.first?.id == cellIDs[1])
            var sampleCount = 0
            for cell in contents.cells {
                let fromSQLite = try storedSamples(reader, cellID: cell.id)
                #expect(fromSQLite.count == 5_000)
                #expect(fromSQLite == contents.samples[cell.id])
                #expect(try reader.events(cellID: cell.id) == contents.events[cell.id])
                sampleCount += fromSQLite.count
            }
            #expect(contents.samples.values.map(\.count).reduce(0, +) == sampleCount)
            let rows = try reader.database.query("SELECT count(*) AS n FROM samples").first?["n"].int
            #expect(rows == Int64(sampleCount))
        }
    }

    @Test func linesAreDeterministicWithTypeFirst() throws {
        try withTemporaryFolder { folder in
            func write(_ name: String) throws -> String {
                let path = folder.appendingPathComponent(name).path
                let writer = try JSONLWriter(path: path, append: false)
                var run = testRun()
                run.id = 1
                try writer.writeRun(run)
                try writer.writeSamples([tagged(producer: 1, sequence: 5)], cellID: 7)
                try writer.writeEvents([EventRecord(tNs: -3, kind: .other("k"), value: -0.5)], cellID: 7)
                try writer.close()
                return try String(contentsOfFile: path, encoding: .utf8)
            }
            let text = try write("a.jsonl")
            #expect(try write("b.jsonl") == text)
            let lines = text.split(separator: "\n").map(String.init)
            #expect(lines.count == 3)
            #expect(lines[0].hasPrefix(#"{"type":"run","id":1,"experiment":"pipeline \"quoted\"\n","#))
            #expect(lines[0].contains(#""master_seed":18446744073709551614,"#))
            #expect(lines[0].contains(#""spec_text":"{\n\t\"a\": \"é ✓ \u0001\"\n}""#))
            #expect(
                lines[1]
                    == #"{"type":"sample","cell_id":7,"request_id":1000005,"attempt":3,"intended_ns":7000035,"#
                    + #""start_ns":7000036,"end_ns":7000134,"status":503,"error_class":"http_5xx","bytes":5,"#
                    + #""is_final":true,"is_warmup":true}"#)
            #expect(lines[2] == #"{"type":"event","cell_id":7,"t_ns":-3,"kind":"k","value":-0.5,"detail":null}"#)
            for line in lines {
                #expect(try JSONSerialization.jsonObject(with: Data(line.utf8)) is [String: Any])
            }
        }
    }

    @Test func aTornLastLineIsIgnoredAndABadLineIsReported() throws {
        try withTemporaryFolder { folder in
            let path = folder.appendingPathComponent("torn.jsonl").path
            let writer = try JSONLWriter(path: path, append: false)
            try writer.writeSamples([tagged(producer: 0, sequence: 1), tagged(producer: 0, sequence: 2)], cellID: 1)
            try writer.close()
            let handle = try #require(FileHandle(forWritingAtPath: path))
            handle.seekToEndOfFile()
            handle.write(Data(#"{"type":"sample","cell_id":1,"requ"#.utf8))
            try handle.close()
            let contents = try JSONLReader.read(path: path)
            #expect(contents.tornTail)
            #expect(contents.samples[1] == [tagged(producer: 0, sequence: 1), tagged(producer: 0, sequence: 2)])

            try Data("{\"type\":\"nope\"}\n".utf8).write(to: URL(fileURLWithPath: path))
            #expect {
                _ = try JSONLReader.read(path: path)
            } throws: { error in
                "\(error)".contains("torn.jsonl:1") && "\(error)".contains("nope")
            }
            #expect(throws: JSONLError.self) { _ = try JSONLWriter(path: folder.path + "/missing/dir/x.jsonl") }
        }
    }
}
