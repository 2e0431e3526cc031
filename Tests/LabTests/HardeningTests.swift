import Foundation
import LabStore
import Testing

@testable import Lab

/// The repository's root, for the catalogue's specs.
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// Polls `condition` every 50 ms until it holds or `seconds` pass; returns whether it held.
private func eventually(within seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(50_000)
    }
    return try condition()
}

/// Whether process `pid` is gone (or a zombie, which runs nothing and holds no port).
private func processIsGone(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
    guard let close = stat.lastIndex(of: ")") else { return true }
    return stat[stat.index(close, offsetBy: 2)] == "Z"
}

/// The children of process `pid`, from `/proc/PID/task/*/children`.
private func children(of pid: Int32) -> [Int32] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    return tasks.flatMap { task in
        ((try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? "")
            .split(separator: " ").compactMap { Int32($0) }
    }
}

/// A sweep slow enough to be killed in its middle: 2 cells of about 3 s each.
private let slowSpec = """
    {
      "name": "slow",
      "question": "Does the mock server die with its runner?",
      "engines": ["sync"],
      "fixed": { "latencyMs": 50 },
      "requests": 60,
      "repetitions": 2,
      "seed": 5
    }
    """

@Suite(.serialized, .timeLimit(.minutes(3))) struct HardeningTests {
    // MARK: Specs refused before anything is written

    @Test(arguments: [
        (
            "a duplicated key",
            "{\n  \"name\": \"one\",\n  \"question\": \"q\",\n  \"engines\": [\"sync\"],\n  \"name\": \"two\"\n}\n",
            "name: appears twice in one object, at line 2, column 3 and at line 5, column 3"
        ),
        (
            "a nested duplicated key",
            #"{"name": "n", "question": "q", "engines": ["sync"], "fixed": {"latencyMs": 1, "latencyMs": 2}}"#,
            "fixed.latencyMs: appears twice"
        ),
        (
            "an empty name",
            #"{"name": "", "question": "q", "engines": ["sync"]}"#,
            "name: is empty"
        ),
        (
            "baseMs above capMs in one cell of the grid",
            #"{"name": "n", "question": "q", "engines": ["sync"], "axes": {"baseMs": [10, 500]}, "#
                + #""fixed": {"backoff": "full", "capMs": 100, "errorRate": 0.1}}"#,
            "fixed.backoff, axes.baseMs, fixed.capMs, resilience: the cell `sync baseMs=500 rep=0` is invalid"
        ),
    ])
    func invalidSpecsAreRefusedWithTheFileNamedAndNothingWritten(label: String, text: String, expected: String) throws {
        let folder = try temporaryFolder()
        let db = folder + "/lab.sqlite"
        let spec = try writeSpec(text)
        let result = try runExperiments(["run", spec, "--db", db])
        #expect(result.status != 0, "\(label) was run")
        #expect(result.errors.contains("\(spec): \(expected)"), "\(label): \(result.errors)")
        #expect(!FileManager.default.fileExists(atPath: db), "\(label) created the database")
        let dry = try runExperiments(["run", spec, "--dry-run"])
        #expect(dry.status != 0, "\(label) passed --dry-run")
    }

    @Test func duplicateKeysAreFoundWithTheirPaths() {
        let text = #"{"a": 1, "b": {"c": [ {"d": 1, "e": "x\"y", "d": 2} ], "c": 3}, "q": "{\"a\": 1}", "a": 2}"#
        let found = JSONText.duplicateKeys(in: text).map(\.keyPath)
        #expect(found == ["b.c[0].d", "b.c", "a"])
        #expect(JSONText.duplicateKeys(in: #"{"a": {"x": 1}, "b": {"x": 1}, "c": [{"x": 1}, {"x": 2}]}"#).isEmpty)
    }

    // MARK: No orphans

    @Test(arguments: [SIGKILL, SIGTERM])
    func theMockServerDiesWithItsRunnerAndTheRunIsNotLeftRunning(signal: Int32) throws {
        let folder = try temporaryFolder()
        let db = folder + "/lab.sqlite"
        let spec = try writeSpec(slowSpec)
        let runner = Process()
        runner.executableURL = URL(fileURLWithPath: Built.experiments)
        runner.arguments = ["run", spec, "--db", db, "--no-pin"]
        runner.standardOutput = FileHandle.nullDevice
        runner.standardError = FileHandle.nullDevice
        try runner.run()
        var server: Int32 = 0
        let started = eventually(within: 30) {
            server = children(of: runner.processIdentifier).first ?? 0
            return server != 0
        }
        try #require(started, "the runner started no mock server")
        // Wait until the first cell is under way, so the run is `running` in the database.
        let running = try eventually(within: 30) {
            guard FileManager.default.fileExists(atPath: db) else { return false }
            return try LabStore.openForReading(path: db).runs().first?.status == .running
        }
        try #require(running)
        kill(runner.processIdentifier, signal)
        runner.waitUntilExit()
        #expect(eventually(within: 15) { processIsGone(server) }, "mock-server \(server) outlived its runner")

        let runs = try LabStore.openForReading(path: db).runs()
        if signal == SIGTERM {
            #expect(runner.terminationStatus == 130)
            #expect(runs.map(\.status) == [.interrupted])
        } else {
            #expect(runs.map(\.status) == [.running])
        }
        let resumed = try runExperiments(["run", spec, "--db", db, "--no-pin", "--resume"])
        #expect(resumed.status == 0, "\(resumed.errors)")
        let after = try LabStore.openForReading(path: db)
        #expect(try after.runs().map(\.status) == [signal == SIGKILL ? RunStatus.abandoned : .interrupted, .complete])
        #expect(try after.cells().count == 2)
    }

    @Test func aSecondWriterIsRefusedWhileTheFirstHoldsTheDatabase() throws {
        let db = try temporaryFolder() + "/lab.sqlite"
        do {
            let first = try LabStore.openForWriting(path: db)
            #expect(throws: StoreError.self) { _ = try LabStore.openForWriting(path: db) }
            withExtendedLifetime(first) {}
        }
        // Once the first writer is gone, the database opens again.
        _ = try LabStore.openForWriting(path: db)
    }

    // MARK: A server that is not ours

    @Test func throughputSpecsRunAgainstAPlainHTTPServer() throws {
        let root = try temporaryFolder()
        try Data(repeating: UInt8(ascii: "x"), count: 512).write(to: URL(fileURLWithPath: root + "/file.txt"))
        // Python's standard file server (HTTP/1.0: it closes every connection), with a backlog for 64 connects.
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = [
            "python3", "-u", "-c",
            """
            import functools, http.server as h
            h.ThreadingHTTPServer.request_queue_size = 1024
            h.SimpleHTTPRequestHandler.log_message = lambda *a: None
            s = h.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(h.SimpleHTTPRequestHandler, directory="\(root)"))
            print("port", s.server_address[1])
            s.serve_forever()
            """,
        ]
        let pipe = Pipe()
        server.standardOutput = pipe
        try server.run()
        defer {
            // SIGKILL: the child inherits this test process's signal mask, in which SIGTERM may be blocked.
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        let port = firstLine(of: pipe).split(separator: " ").last
        let target = "http://127.0.0.1:\(try #require(port))/file.txt"

        let db = root + "/target.sqlite"
        let specs = ["engines", "pooling", "load", "error-rate"].map { "\(repositoryRoot)/experiments/\($0).json" }
        let result = try runExperiments(["run"] + specs + ["--quick", "--db", db, "--target", target])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output.contains("skipping error-rate"))
        // load's server has a finite capacity (its `server` section), which only the mock server can have.
        #expect(result.output.contains("skipping load"))
        #expect(result.output.contains("only the mock server honours latencyMs=10"))

        let store = try LabStore.openForReading(path: db)
        let cells = try store.cells()
        #expect(Set(cells.map(\.experiment)) == ["engines", "pooling"])
        #expect(Set(cells.map(\.engine)).isSuperset(of: ["sync", "threaded", "async"]))
        #expect(try store.runs().allSatisfy { $0.target == target && $0.status == .complete })
        for cell in cells {
            var finals = 0
            var failures: [String] = []
            try store.forEachSample(cellID: cell.id) { sample in
                guard sample.isFinal else { return }
                finals += 1
                if sample.status != 200 { failures.append("\(sample.status) \(sample.errorClass)") }
            }
            #expect(finals == cell.plannedRequests + cell.warmupRequests, "\(cell.experiment) \(cell.engine)")
            #expect(failures.isEmpty, "\(cell.experiment) \(cell.engine) c=\(cell.concurrency): \(failures.prefix(3))")
            #expect(cell.server == nil)
        }

        let report = Process()
        report.executableURL = URL(fileURLWithPath: Built.folder + "/report")
        report.arguments = ["--format", "markdown", "--db", db, "--out", root + "/reports"]
        report.standardOutput = FileHandle.nullDevice
        try report.run()
        report.waitUntilExit()
        #expect(report.terminationStatus == 0)
        let page = try String(contentsOfFile: root + "/reports/engines/README.md", encoding: .utf8)
        #expect(page.contains("Measured against `\(target)`, not the mock server."))
        let index = try String(contentsOfFile: root + "/reports/README.md", encoding: .utf8)
        #expect(index.contains(target))
    }
}
