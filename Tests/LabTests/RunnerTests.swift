import Foundation
import LabStore
import Testing

@testable import Lab

/// The executables built beside the test bundle (`swift build --build-tests` builds them too).
enum Built {
    static var folder: String {
        let me =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: me).deletingLastPathComponent()
        // On Linux the test runner lives in .build/<config>/ itself; elsewhere inside a bundle.
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("experiments").path),
            url.path != "/"
        {
            url.deleteLastPathComponent()
        }
        return url.path
    }

    static var experiments: String { folder + "/experiments" }
}

/// The result of running `experiments` as a subprocess.
struct Invocation {
    var status: Int32
    var output: String
    var errors: String
}

/// Reads a pipe to its end on a thread of its own, so a child process never blocks on a full pipe while the
/// test waits for something else.
final class PipeDrain: @unchecked Sendable {
    // Safe: `data` is written once, by the reading thread, before `finished` is signalled, and read only after.
    private var data = Data()
    private let finished = DispatchSemaphore(value: 0)

    init(_ pipe: Pipe) {
        let handle = pipe.fileHandleForReading
        Thread.detachNewThread {
            self.data = handle.readDataToEndOfFile()
            self.finished.signal()
        }
    }

    /// Everything the pipe carried; waits for its writers to close it. Call once.
    func text() -> String {
        finished.wait()
        return String(decoding: data, as: UTF8.self)
    }
}

/// Runs `experiments` with `arguments`. With `interruptWhen`, polls the condition every 10 ms while the process
/// runs and sends SIGINT once it holds (a condition, never a fixed delay, decides when); a condition still false
/// after 30 s is recorded as an issue and the process is stopped with SIGTERM.
func runExperiments(
    _ arguments: [String], interruptWhen condition: (() -> Bool)? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> Invocation {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Built.experiments)
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let output = PipeDrain(out)
    let errors = PipeDrain(err)
    if let condition {
        let deadline = ContinuousClock.now + .seconds(30)
        var met = false
        while process.isRunning && ContinuousClock.now < deadline {
            if condition() {
                met = true
                break
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        if met {
            kill(process.processIdentifier, SIGINT)
        } else if process.isRunning {
            Issue.record("the interrupt condition did not hold within 30 s", sourceLocation: sourceLocation)
            process.terminate()
        }
    }
    process.waitUntilExit()
    return Invocation(status: process.terminationStatus, output: output.text(), errors: errors.text())
}

/// The first line a child process writes to `pipe`, without its line break ("" if it closes first).
func firstLine(of pipe: Pipe) -> String {
    var line = Data()
    while !line.contains(UInt8(ascii: "\n")) {
        let chunk = pipe.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        line.append(chunk)
    }
    return String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

func temporaryFolder() throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("runner-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
}

/// sync (concurrency 1 only) + threaded and async at 3 concurrencies, × 2 error rates = 14 tiny cells.
let tinySpec = """
    {
      "name": "tiny",
      "question": "Does the runner account for every request?",
      "engines": ["sync", "threaded", "async"],
      "axes": { "concurrency": [1, 2, 4], "errorRate": [0, 0.3] },
      "fixed": { "latencyMs": 1, "path": "/get" },
      "requests": 30,
      "warmup": 4,
      "seed": 99
    }
    """

/// `tinySpec` with up to 3 attempts and no backoff delay, and `requests` per cell: a 30% error rate makes
/// retries, so the cells differ in sample count and in which requests failed (each cell's seed decides the
/// server's faults), and a sample stored under the wrong cell, or lost, shows.
func retryingSpec(requests: Int = 30) -> String {
    tinySpec.replacingOccurrences(
        of: #""fixed": { "latencyMs": 1, "path": "/get" }"#,
        with: #""fixed": { "latencyMs": 1, "path": "/get", "backoff": "none", "maxAttempts": 3 }"#
    ).replacingOccurrences(of: #""requests": 30"#, with: #""requests": \#(requests)"#)
}

/// One stored attempt without its timings: what the seeded server and the policy decided.
struct AttemptRow: Hashable, Comparable, CustomStringConvertible {
    var requestID: Int64
    var attempt: Int32
    var status: Int32
    var errorClass: String
    var isFinal: Bool
    var isWarmup: Bool

    static func < (lhs: AttemptRow, rhs: AttemptRow) -> Bool {
        (lhs.requestID, lhs.attempt) < (rhs.requestID, rhs.attempt)
    }

    var description: String {
        "#\(requestID).\(attempt) \(status) \(errorClass)\(isFinal ? " final" : "")\(isWarmup ? " warmup" : "")"
    }
}

/// A cell's samples as the comparisons see them.
struct CellSamples: Equatable {
    /// Every attempt, by request id then attempt.
    var rows: [AttemptRow]
    /// The requests with at least one failed attempt: the cell's fault set.
    var faulted: Set<Int64>
}

/// The samples of every complete cell in the database at `path`, by cell key.
func samplesByCell(_ path: String) throws -> [String: CellSamples] {
    let store = try LabStore.openForReading(path: path)
    var cells: [String: CellSamples] = [:]
    for cell in try store.cells() {
        var rows: [AttemptRow] = []
        try store.forEachSample(cellID: cell.id) { sample in
            rows.append(
                AttemptRow(
                    requestID: sample.requestID, attempt: sample.attempt, status: sample.status,
                    errorClass: sample.errorClass.rawValue, isFinal: sample.isFinal, isWarmup: sample.isWarmup))
        }
        let faulted = Set(rows.filter { $0.errorClass != "ok" }.map(\.requestID))
        #expect(cells[cell.cellKey] == nil, "cell \(cell.cellKey) is complete twice in \(path)")
        cells[cell.cellKey] = CellSamples(rows: rows.sorted(), faulted: faulted)
    }
    return cells
}

/// Expects `actual` to hold the same cells as `expected`, each with the same attempts and the same fault set.
func expectSameSamples(
    _ actual: [String: CellSamples], as expected: [String: CellSamples],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.keys.sorted() == expected.keys.sorted(), sourceLocation: sourceLocation)
    for (key, want) in expected.sorted(by: { $0.key < $1.key }) {
        guard let got = actual[key] else { continue }
        #expect(got.rows.count == want.rows.count, "cell \(key): sample count", sourceLocation: sourceLocation)
        #expect(got.faulted == want.faulted, "cell \(key): failed requests", sourceLocation: sourceLocation)
        let same = got.rows == want.rows
        let missing = Set(want.rows).subtracting(got.rows).sorted().prefix(5)
        let extra = Set(got.rows).subtracting(want.rows).sorted().prefix(5)
        #expect(same, "cell \(key): missing \(Array(missing)), extra \(Array(extra))", sourceLocation: sourceLocation)
    }
}

/// Expects the reference run's cells to be able to tell each other apart: their sample counts and fault sets
/// differ, so comparing per cell would catch samples stored under the wrong cell.
func expectDistinguishableCells(_ cells: [String: CellSamples], sourceLocation: SourceLocation = #_sourceLocation) {
    // Faults are paired: every cell at one error rate meets the same faults, so the 14 cells hold exactly two fault
    // sets and two sample counts (error rates 0 and 0.3). A cell that lost, duplicated or changed a sample still
    // differs from its reference, and a cell moved across error rates would too.
    #expect(cells.count == 14, sourceLocation: sourceLocation)
    #expect(Set(cells.values.map(\.rows.count)).count == 2, "sample counts must differ", sourceLocation: sourceLocation)
    #expect(Set(cells.values.map(\.faulted)).count == 2, "fault sets must differ", sourceLocation: sourceLocation)
    #expect(cells.values.contains { $0.rows.contains { $0.attempt > 1 } }, "retries", sourceLocation: sourceLocation)
}

/// The cells complete in the database at `path` now; 0 while it does not exist yet or cannot be read.
func completedCellCount(_ path: String) -> Int {
    (try? LabStore.openForReading(path: path).completedCellKeys().count) ?? 0
}

@Suite(.serialized, .timeLimit(.minutes(3))) struct RunnerTests {
    @Test func everyPlannedRequestHasExactlyOneFinalOutcome() throws {
        let folder = try temporaryFolder()
        let spec = try writeSpec(tinySpec)
        let db = folder + "/lab.sqlite"
        let result = try runExperiments(["run", spec, "--db", db])
        #expect(result.status == 0, "\(result.errors)")

        let store = try LabStore.openForReading(path: db)
        let cells = try store.cells()
        #expect(cells.count == 14)
        for cell in cells {
            var finals: [Int64: Int] = [:]
            var attempts = 0
            try store.forEachSample(cellID: cell.id) { sample in
                attempts += 1
                if sample.isFinal { finals[sample.requestID, default: 0] += 1 }
            }
            #expect(finals.count == cell.plannedRequests + cell.warmupRequests)
            #expect(finals.values.allSatisfy { $0 == 1 })
            // Warm-up 4 is at least every cell's worker count, so no cell sends more: ids 0..<34.
            #expect(cell.warmupRequests == 4 && cell.plannedRequests == 30)
            #expect(Set(finals.keys) == Set((0..<Int64(34))))
            #expect(cell.server?.requests == Int64(attempts))
        }
        let runs = try store.runs()
        #expect(runs.count == 1)
        #expect(runs.first?.status == .complete)
        #expect(runs.first?.specSHA256 == SHA256.hex(tinySpec))
    }

    @Test(arguments: [
        ("engines", #""engines": ["sink"]"#, "engines[0]"),
        ("concurrency", #""axes": { "concurrency": [0] }"#, "axes.concurrency[0]"),
        ("errorRate", #""fixed": { "errorRate": 1.5 }"#, "fixed.errorRate"),
    ])
    func badSpecsExitNonZeroAndLeaveTheDatabaseUntouched(label: String, fragment: String, keyPath: String) throws {
        let folder = try temporaryFolder()
        let db = folder + "/lab.sqlite"
        // A database from an earlier good run must stay byte-identical.
        let good = try runExperiments([
            "run", try writeSpec(tinySpec.replacingOccurrences(of: "[1, 2, 4]", with: "[1]")), "--db", db,
        ])
        #expect(good.status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        let bad = """
            { "name": "bad", "question": "q", \(fragment.contains("engines") ? fragment : #""engines": ["sync"], "# + fragment) }
            """
        let spec = try writeSpec(bad)
        let result = try runExperiments(["run", spec, "--db", db])
        #expect(result.status != 0)
        #expect(result.errors.contains("\(spec): \(keyPath):"), "\(result.errors)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
    }

    @Test func aMissingSpecAndASyntaxErrorAreNamed() throws {
        let folder = try temporaryFolder()
        let db = folder + "/lab.sqlite"
        let missing = try runExperiments(["run", folder + "/nope.json", "--db", db])
        #expect(missing.status != 0)
        #expect(missing.errors.contains("\(folder)/nope.json"))
        let broken = try writeSpec("{\n  \"name\": \"x\",\n  \"engines\": [\"sync\"\n}\n")
        let syntax = try runExperiments(["run", broken, "--db", db])
        #expect(syntax.status != 0)
        #expect(syntax.errors.contains(broken) && syntax.errors.contains("line 4"), "\(syntax.errors)")
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    /// A run interrupted with SIGINT once the database shows a completed cell, then resumed, stores the same
    /// attempts (request id, attempt, status, class) and fault sets, cell by cell, as an uninterrupted run.
    /// 120 requests per cell leave about 2 s between the first cell's completion and the last cell's start, so
    /// the interrupt always lands mid-sweep (the whole test takes about 6 s).
    @Test func anInterruptedThenResumedRunEqualsAnUninterruptedOne() throws {
        let folder = try temporaryFolder()
        let spec = try writeSpec(retryingSpec(requests: 120))
        let full = folder + "/full.sqlite"
        #expect(try runExperiments(["run", spec, "--db", full]).status == 0)
        let expected = try samplesByCell(full)
        expectDistinguishableCells(expected)

        let resumed = folder + "/resumed.sqlite"
        let first = try runExperiments(
            ["run", spec, "--db", resumed], interruptWhen: { completedCellCount(resumed) >= 1 })
        #expect(first.status == 130, "\(first.errors)")
        #expect(first.errors.contains("--resume"))
        let partial = try samplesByCell(resumed)
        #expect(partial.count >= 1 && partial.count < 14, "\(partial.count) cells before the interrupt")
        #expect(try LabStore.openForReading(path: resumed).runs().first?.status == .interrupted)
        // The cells kept from the interrupted run are already whole.
        expectSameSamples(partial, as: expected.filter { partial[$0.key] != nil })

        let second = try runExperiments(["run", spec, "--db", resumed, "--resume"])
        #expect(second.status == 0, "\(second.errors)")
        #expect(second.output.contains("\(partial.count) already complete"), "\(second.output)")
        expectSameSamples(try samplesByCell(resumed), as: expected)
    }

    /// Three shards merged store the same attempts and fault sets, cell by cell, as one full run.
    @Test func mergedShardsEqualTheFullRun() throws {
        let folder = try temporaryFolder()
        let spec = try writeSpec(retryingSpec())
        let full = folder + "/full.sqlite"
        #expect(try runExperiments(["run", spec, "--db", full]).status == 0)
        let expected = try samplesByCell(full)
        expectDistinguishableCells(expected)
        var shards: [String] = []
        for i in 1...3 {
            let path = folder + "/shard\(i).sqlite"
            #expect(try runExperiments(["run", spec, "--db", path, "--shard", "\(i)/3"]).status == 0)
            let shard = try samplesByCell(path)
            #expect(!shard.isEmpty && shard.count < 14, "shard \(i) holds \(shard.count) cells")
            shards.append(path)
        }
        let merged = folder + "/merged.sqlite"
        let result = try runExperiments(["merge", "--into", merged] + shards)
        #expect(result.status == 0, "\(result.errors)")
        expectSameSamples(try samplesByCell(merged), as: expected)
    }

    @Test func aTargetURLRunsThroughputSpecsAndSkipsFaultInjection() throws {
        // Any HTTP server will do as a target; here, a mock server started by hand.
        let server = Process()
        server.executableURL = URL(fileURLWithPath: Built.folder + "/mock-server")
        server.arguments = ["--port", "0"]
        let pipe = Pipe()
        server.standardOutput = pipe
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let url = firstLine(of: pipe).split(separator: " ").last.map(String.init) ?? ""
        #expect(url.hasPrefix("http://127.0.0.1:"))

        let folder = try temporaryFolder()
        let plain = try writeSpec(
            #"{"name":"plain","question":"q","engines":["threaded"],"fixed":{"concurrency":2,"path":"/health"},"requests":20}"#,
            name: "plain.json")
        let faulty = try writeSpec(
            #"{"name":"faulty","question":"q","engines":["threaded"],"fixed":{"errorRate":0.5},"requests":20}"#,
            name: "faulty.json")
        let db = folder + "/target.sqlite"
        let result = try runExperiments(["run", plain, faulty, "--db", db, "--target", url])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output.contains("skipping faulty"))
        let store = try LabStore.openForReading(path: db)
        #expect(try store.cells().map(\.experiment) == ["plain"])
        #expect(try store.runs().map(\.target) == [url])
    }
}
