import AsyncPatterns
import Foundation
import LabStore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Issue 6: a writer killed with SIGKILL mid-run leaves a database that passes `PRAGMA integrity_check`, holding
/// whole batches only (at most the batch in flight is lost).
///
/// The writer is this test binary re-run with `PIPELINE_WRITER_FIXTURE_DB` set, which enables `writerFixture`:
/// it streams samples engine-style through a `Pipeline` into `LabStore` (and `JSONLWriter`) in batches of
/// `batchSize`, and prints `committed N` after each batch is committed.
@Suite(.timeLimit(.minutes(1)))
struct CrashSafetyTests {
    static let environmentKey = "PIPELINE_WRITER_FIXTURE_DB"
    static let batchSize = 2_000

    /// Re-running the test binary with `--testing-library swift-testing --filter` is how `swift test` runs it on
    /// Linux; on macOS tests run inside a helper process, so the check is Linux-only.
    static var canRerunTestBinary: Bool {
        #if os(Linux)
            true
        #else
            false
        #endif
    }

    @Test(.enabled(if: canRerunTestBinary))
    func killedWriterLeavesAnIntactDatabaseOfWholeBatches() async throws {
        try await onThread { try Self.killWriterAndCheck() }
    }

    private static func killWriterAndCheck() throws {
        try withTemporaryFolder { folder in
            let path = folder.appendingPathComponent("crash.sqlite").path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            process.arguments = ["--testing-library", "swift-testing", "--filter", "writerFixture"]
            process.environment = ProcessInfo.processInfo.environment.merging([Self.environmentKey: path]) { $1 }
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()

            // Wait until several batches are committed, then kill the writer in the middle of its run.
            var committed = 0
            var text = ""
            while committed < 8 * Self.batchSize {
                let data = output.fileHandleForReading.availableData
                if data.isEmpty { break }
                text += String(decoding: data, as: UTF8.self)
                let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
                if let last = lines.last(where: { $0.hasPrefix("committed ") }) {
                    committed = Int(last.dropFirst("committed ".count)) ?? committed
                }
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
            #expect(committed >= 8 * Self.batchSize, "the writer printed: \(text.suffix(500))")

            let database = try SQLiteDatabase(path: path, mode: .readWrite)
            let integrity = try database.query("PRAGMA integrity_check").map { $0.values.first?.string ?? "" }
            #expect(integrity == ["ok"])
            let rows = Int(try database.query("SELECT count(*) AS n FROM samples").first?["n"].int ?? -1)
            #expect(rows % Self.batchSize == 0, "\(rows) rows is not a whole number of batches")
            #expect(rows >= committed, "committed batches were lost: \(rows) < \(committed)")

            // The stored samples are exactly the first `rows` produced, in order.
            let store = try LabStore.openForReading(path: path)
            let cellID = try #require(try store.cells(status: .running).first?.id)
            var index = 0
            var intact = true
            try store.forEachSample(cellID: cellID) { sample in
                intact = intact && sample == tagged(producer: 0, sequence: index)
                index += 1
            }
            #expect(intact && index == rows)

            // The JSONL file written alongside holds at least every committed sample; a torn tail is ignored.
            let contents = try JSONLReader.read(path: path + ".jsonl")
            let jsonlSamples = contents.samples[cellID] ?? []
            #expect(jsonlSamples.count >= committed)
            #expect(jsonlSamples.enumerated().allSatisfy { $0.element == tagged(producer: 0, sequence: $0.offset) })
        }
    }

    /// The writer subprocess; runs only when re-invoked by the test above (for at most 50 s).
    @Test(.enabled(if: ProcessInfo.processInfo.environment[Self.environmentKey] != nil))
    func writerFixture() throws {
        let path = try #require(ProcessInfo.processInfo.environment[Self.environmentKey])
        let store = try LabStore.openForWriting(path: path)
        let jsonl = try JSONLWriter(path: path + ".jsonl", append: false)
        var run = testRun()
        run.id = try store.insertRun(run)
        try jsonl.writeRun(run)
        var cell = testCell(runID: run.id, key: "crash")
        cell.id = try store.insertCell(cell)
        try jsonl.writeCell(cell)
        let cellID = cell.id

        let pipeline = Pipeline<AttemptSample>(
            configuration: PipelineConfiguration(
                capacity: 4 * Self.batchSize, maxBatchSize: Self.batchSize, maxBatchWait: .seconds(3600)))
        let writers = Exclusive((store, jsonl, FileHandle.standardOutput))
        let committed = TestList<Int>()
        pipeline.startConsumer { batch in
            try writers.value.0.insertSamples(batch, cellID: cellID)
            try writers.value.1.writeSamples(batch, cellID: cellID)
            try writers.value.1.flush()
            committed.append(batch.count)
            let total = committed.count * Self.batchSize
            writers.value.2.write(Data("committed \(total)\n".utf8))
        }
        let sink = PipelineSink(pipeline)
        let deadline = ContinuousClock.now.advanced(by: .seconds(50))
        var sequence = 0
        while ContinuousClock.now < deadline {
            for _ in 0..<Self.batchSize {
                sink.record(tagged(producer: 0, sequence: sequence))
                sequence += 1
            }
        }
        try pipeline.finish()
    }
}
