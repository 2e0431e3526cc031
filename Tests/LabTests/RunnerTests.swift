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

/// Runs `experiments` with `arguments`; when `interruptAfter` is set, sends SIGINT once that many cells
/// have been announced as finished on standard error.
func runExperiments(_ arguments: [String], interruptAfterCells: Int? = nil) throws -> Invocation {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Built.experiments)
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    var errors = Data()
    var interrupted = false
    while true {
        let chunk = err.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        errors.append(chunk)
        if let limit = interruptAfterCells, !interrupted {
            let finished = String(decoding: errors, as: UTF8.self).split(separator: "\n").filter {
                $0.contains("requests,")
            }
            if finished.count >= limit {
                kill(process.processIdentifier, SIGINT)
                interrupted = true
            }
        }
    }
    let output = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Invocation(
        status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
        errors: String(decoding: errors, as: UTF8.self))
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
      "warmup": 3,
      "seed": 99
    }
    """

func cellKeys(_ path: String) throws -> [String] {
    try LabStore.openForReading(path: path).cells().map(\.cellKey).sorted()
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
            #expect(Set(finals.keys) == Set((0..<Int64(33))))
            #expect(cell.server?.requests == Int64(attempts))
        }
        let runs = try store.runs()
        #expect(runs.count == 1)
        #expect(runs.first?.status == "complete")
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

    @Test func anInterruptedThenResumedRunEqualsAnUninterruptedOne() throws {
        let folder = try temporaryFolder()
        let spec = try writeSpec(tinySpec)
        let full = folder + "/full.sqlite"
        #expect(try runExperiments(["run", spec, "--db", full]).status == 0)

        let resumed = folder + "/resumed.sqlite"
        let first = try runExperiments(["run", spec, "--db", resumed], interruptAfterCells: 3)
        #expect(first.status == 130, "\(first.errors)")
        #expect(first.errors.contains("--resume"))
        let partial = try cellKeys(resumed)
        #expect(partial.count >= 3 && partial.count < 14)
        #expect(try LabStore.openForReading(path: resumed).runs().first?.status == "interrupted")

        let second = try runExperiments(["run", spec, "--db", resumed, "--resume"])
        #expect(second.status == 0)
        #expect(second.output.contains("\(partial.count) already complete"))
        #expect(try cellKeys(resumed) == cellKeys(full))
    }

    @Test func mergedShardsEqualTheFullRun() throws {
        let folder = try temporaryFolder()
        let spec = try writeSpec(tinySpec)
        let full = folder + "/full.sqlite"
        #expect(try runExperiments(["run", spec, "--db", full]).status == 0)
        var shards: [String] = []
        for i in 1...3 {
            let path = folder + "/shard\(i).sqlite"
            #expect(try runExperiments(["run", spec, "--db", path, "--shard", "\(i)/3"]).status == 0)
            shards.append(path)
        }
        let merged = folder + "/merged.sqlite"
        let result = try runExperiments(["merge", "--into", merged] + shards)
        #expect(result.status == 0, "\(result.errors)")
        #expect(try cellKeys(merged) == cellKeys(full))
        let store = try LabStore.openForReading(path: merged)
        let samples = try store.database.query("SELECT count(*) AS n FROM samples").first?["n"].int
        let fullSamples = try LabStore.openForReading(path: full).database.query("SELECT count(*) AS n FROM samples")
            .first?["n"].int
        #expect(samples == fullSamples)
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
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let url =
            String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: " ").last.map(String.init) ?? ""
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
