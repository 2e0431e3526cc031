import Foundation
import LabStore
import Testing

@testable import Lab

/// Each cell's client runs in a child process of its own (`experiments cell-child`).
@Suite(.serialized, .timeLimit(.minutes(3))) struct CellProcessTests {
    /// Two async cells (concurrency 1 and 2), 10 requests and 2 warm-up each.
    private let twoCells = """
        {
          "name": "cellprocess",
          "question": "Does each cell run in a process of its own?",
          "engines": ["async"],
          "axes": { "concurrency": [1, 2] },
          "fixed": { "latencyMs": 2, "path": "/get" },
          "requests": 10,
          "warmup": 2,
          "seed": 4242
        }
        """

    /// Runs `experiments` with `arguments` and `environment` added to this process's; returns its exit status and
    /// standard error.
    private func experiments(_ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Built.experiments)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let errors = PipeDrain(err)
        process.waitUntilExit()
        return (process.terminationStatus, errors.text())
    }

    @Test func aCellsClientFiguresComeFromAnotherProcess() async throws {
        // 512 MiB touched here: a client measured in this process would have a peak RSS above it.
        let size = 512 << 20
        let ballast = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096)
        defer { ballast.deallocate() }
        for offset in stride(from: 0, to: size, by: 4096) { ballast[offset] = 1 }
        let ownRSS = try #require(ProcessFigures.residentBytes())
        #expect(ownRSS > Int64(size))

        let folder = try temporaryFolder()
        var options = RunOptions(specPaths: [try writeSpec(twoCells)])
        options.databasePath = folder + "/lab.sqlite"
        options.pin = false
        options.mockServerPath = Built.folder + "/mock-server"
        options.cellExecutable = Built.experiments
        var output: [String] = []
        let outcome = try await ExperimentRunner(options: options).run { output.append($0) }
        #expect(outcome.cellsRun == 2)
        withExtendedLifetime(ballast) {}

        let store = try LabStore.openForReading(path: options.databasePath)
        let cells = try store.cells()
        #expect(cells.count == 2)
        var pids: Set<Int32> = []
        for cell in cells {
            let pid = try store.events(cellID: cell.id).first { $0.kind == .clientPID }?.value
            let childPID = try #require(pid.map { Int32($0) }, "cell \(cell.cellKey) records no client_pid")
            #expect(childPID != getpid())
            pids.insert(childPID)
            let peak = try #require(cell.client?.peakRSSBytes)
            #expect(peak > 0 && peak < Int64(size), "cell \(cell.cellKey): peak RSS \(peak) vs this process \(ownRSS)")
            // The runner timed its speed probe just before the client and just after it.
            let probes = try store.events(cellID: cell.id).filter { $0.kind == .speedProbeNs }
            #expect(probes.map(\.detail) == ["before the client", "after the client"], "\(probes)")
            #expect(probes.allSatisfy { ($0.value ?? 0) > 0 })
            #expect(probes.first?.tNs == 0 && (probes.last?.tNs ?? 0) > 0)
        }
        #expect(pids.count == 2, "each cell has a process of its own")
        // The temporary per-cell files are gone.
        let left = try FileManager.default.contentsOfDirectory(atPath: folder)
        #expect(left.allSatisfy { !$0.contains(".cells-") }, "\(left)")
    }

    @Test func aCrashingChildFailsOnlyItsCell() throws {
        let folder = try temporaryFolder()
        let spec = try writeSpec(twoCells)
        let cells = try ExperimentSpec.load(path: spec).grid()
        let crashing = try #require(cells.first { $0.concurrency == 1 }).key
        let db = folder + "/lab.sqlite"
        let (status, errors) = try experiments(
            ["run", spec, "--db", db, "--no-pin"], environment: [CellChild.crashVariable: crashing])
        #expect(status == 0, "\(errors)")

        let store = try LabStore.openForReading(path: db)
        let failed = try store.cells(status: .failed)
        #expect(failed.map(\.cellKey) == [crashing])
        let error = failed.first?.error ?? ""
        #expect(error.contains("signal \(SIGABRT) (SIGABRT)"), "\(error)")
        #expect(error.contains("aborting cell \(crashing)"), "the tail of the child's stderr: \(error)")
        let failedEvents = try store.events(cellID: try #require(failed.first).id)
        #expect(!failedEvents.contains { $0.kind == .clientPID || $0.kind == .pipeline })

        let complete = try store.cells()
        #expect(complete.count == 1)
        #expect(complete.first?.cellKey != crashing)
        if let cell = complete.first {
            var finals = 0
            try store.forEachSample(cellID: cell.id) { if $0.isFinal { finals += 1 } }
            #expect(finals == 12)
        }
        #expect(try store.runs().first?.status == .complete)
    }

    @Test func childProcessesStoreTheSameSamplesAsOneProcess() throws {
        let folder = try temporaryFolder()
        let spec = try writeSpec(retryingSpec())
        let isolated = folder + "/isolated.sqlite"
        let jsonl = folder + "/isolated.jsonl"
        let shared = folder + "/shared.sqlite"
        let first = try experiments(["run", spec, "--db", isolated, "--jsonl", jsonl, "--no-pin"])
        #expect(first.0 == 0, "\(first.1)")
        let second = try experiments(["run", spec, "--db", shared, "--no-cell-process", "--no-pin"])
        #expect(second.0 == 0, "\(second.1)")

        let expected = try samplesByCell(shared)
        let actual = try samplesByCell(isolated)
        expectDistinguishableCells(expected)
        expectSameSamples(actual, as: expected)

        let store = try LabStore.openForReading(path: isolated)
        let contents = try JSONLReader.read(path: jsonl)
        for cell in try store.cells() {
            var finals: [Int64: Int] = [:]
            var attempts = 0
            try store.forEachSample(cellID: cell.id) { sample in
                attempts += 1
                if sample.isFinal { finals[sample.requestID, default: 0] += 1 }
            }
            #expect(finals.count == cell.plannedRequests + cell.warmupRequests)
            #expect(finals.values.allSatisfy { $0 == 1 })
            #expect(cell.server?.requests == Int64(attempts), "server figures still come from the mock server")
            #expect(cell.client != nil && cell.machine != nil)
            let events = try store.events(cellID: cell.id)
            #expect(events.contains { $0.kind == .clientPID })
            #expect(events.contains { $0.kind == .pipeline })
            // JSONL carries the same samples and events under the main store's cell id.
            #expect(contents.samples[cell.id]?.count == attempts)
            #expect(contents.events[cell.id]?.count == events.count)
            #expect(contents.cells.last { $0.id == cell.id }?.status == .complete)
        }
    }

    @Test func theCellsProcessDiesWithItsRunner() throws {
        // One sync cell of about 3 s (60 requests at 50 ms), so it can be killed in its middle.
        let spec = try writeSpec(
            #"{"name":"slowcell","question":"q","engines":["sync"],"fixed":{"latencyMs":50},"requests":60,"seed":6}"#)
        let db = try temporaryFolder() + "/lab.sqlite"
        let runner = Process()
        runner.executableURL = URL(fileURLWithPath: Built.experiments)
        runner.arguments = ["run", spec, "--db", db, "--no-pin"]
        runner.standardOutput = FileHandle.nullDevice
        runner.standardError = FileHandle.nullDevice
        try runner.run()
        defer { if runner.isRunning { kill(runner.processIdentifier, SIGKILL) } }
        // The cell's process is the runner's child that runs `cell-child`.
        var child: Int32 = 0
        let deadline = ContinuousClock.now + .seconds(30)
        while child == 0 && runner.isRunning && ContinuousClock.now < deadline {
            let cellChildren = Self.children(of: runner.processIdentifier).filter { pid in
                let arguments = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
                return arguments.contains("cell-child")
            }
            child = cellChildren.first ?? 0
            if child == 0 { Thread.sleep(forTimeInterval: 0.01) }
        }
        try #require(child != 0, "the runner started no cell-child process")
        kill(runner.processIdentifier, SIGKILL)
        runner.waitUntilExit()
        var gone = false
        let until = ContinuousClock.now + .seconds(15)
        while !gone && ContinuousClock.now < until {
            gone = Self.isGone(child)
            if !gone { Thread.sleep(forTimeInterval: 0.01) }
        }
        #expect(gone, "cell-child \(child) outlived its runner")
    }

    /// The children of `pid`, from /proc.
    private static func children(of pid: Int32) -> [Int32] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.flatMap { task in
            ((try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? "")
                .split(separator: " ").compactMap { Int32($0) }
        }
    }

    /// Whether `pid` has exited (gone, or a zombie).
    private static func isGone(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        return stat[stat.index(close, offsetBy: 2)] == "Z"
    }
}
