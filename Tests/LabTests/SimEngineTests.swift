import AsyncPatterns
import Foundation
import LabStore
import Testing

@testable import Lab

/// The `sim` engine in the runner: cells simulated in virtual time, stored like live cells, the same bytes from
/// the same seed whatever the machine is doing, and the same faults as the live cells of their repetition.
@Suite(.serialized, .timeLimit(.minutes(3))) struct SimEngineTests {
    /// A retrying Poisson open loop against a failing, queueing server over a jittered network: every part of the
    /// simulation that draws or orders anything.
    private let simSpec = """
        {
          "name": "simtwice",
          "question": "Does a seed give the same simulated samples?",
          "engines": ["sim"],
          "axes": { "backoff": ["full", "decorrelated"] },
          "fixed": { "errorRate": 0.3, "latencyMs": 4, "jitter": 0.5, "concurrency": 32, "load": "poisson",
                     "rate": 2000, "maxAttempts": 4, "baseMs": 1, "capMs": 20, "timeoutMs": 50,
                     "networkMs": 2, "networkSdMs": 0.5 },
          "server": { "capacity": { "limit": 6, "whenFull": "queue" } },
          "requests": 3000,
          "warmup": 20,
          "repetitions": 2,
          "seed": 5
        }
        """

    /// Every stored sample of every cell, timings included, by cell key.
    private func rows(_ path: String) throws -> [String: [AttemptSample]] {
        let store = try LabStore.openForReading(path: path)
        var rows: [String: [AttemptSample]] = [:]
        for cell in try store.cells() {
            #expect(cell.status == .complete, "\(cell.cellKey): \(cell.error ?? "")")
            var samples: [AttemptSample] = []
            try store.forEachSample(cellID: cell.id) { samples.append($0) }
            rows[cell.cellKey] = samples
        }
        return rows
    }

    @Test func aSimSpecRunTwiceStoresTheSameRowsInTwoDatabases() throws {
        let spec = try writeSpec(simSpec)
        let folder = try temporaryFolder()
        let first = try runExperiments(["run", spec, "--db", folder + "/a.sqlite", "--no-pin"])
        #expect(first.status == 0, "\(first.errors)")

        // The second run is another process at another moment; the simulation's own tests run one beside a busy
        // thread (`SimulationDeterminismTests`). No spinning threads here: they would slow every test run beside it.
        let second = try runExperiments(["run", spec, "--db", folder + "/b.sqlite", "--no-pin"])
        #expect(second.status == 0, "\(second.errors)")

        let a = try rows(folder + "/a.sqlite")
        let b = try rows(folder + "/b.sqlite")
        #expect(a.count == 4)
        #expect(a.keys.sorted() == b.keys.sorted())
        for (key, samples) in a {
            #expect(samples.count > 3020, "\(key): every request at least once")
            #expect(samples.contains { $0.attempt > 1 }, "\(key) retried")
            #expect(samples == b[key], "\(key): the two runs differ")
        }
        // The simulated server's counters and the wall time are stored for every cell.
        let store = try LabStore.openForReading(path: folder + "/a.sqlite")
        for cell in try store.cells() {
            let server = try #require(cell.server)
            #expect(server.countersJSON.contains(#""simulated":true"#))
            #expect(server.requests >= Int64(3020))
            #expect(cell.client == nil && cell.machine == nil)
            #expect(try store.events(cellID: cell.id).contains { $0.kind == .simulationNs })
        }
    }

    @Test func simAndLiveCellsMeetTheSameFaults() throws {
        let spec = try writeSpec(
            """
            {
              "name": "simlive",
              "question": "Do the simulation and a live engine meet the same faults?",
              "engines": ["async", "sim"],
              "fixed": { "errorRate": 0.3, "concurrency": 4, "latencyMs": 1 },
              "requests": 120,
              "warmup": 4,
              "repetitions": 2,
              "seed": 17
            }
            """)
        let db = try temporaryFolder() + "/simlive.sqlite"
        let result = try runExperiments(["run", spec, "--db", db, "--no-pin"])
        #expect(result.status == 0, "\(result.errors)")
        let cells = try samplesByCell(db)
        let store = try LabStore.openForReading(path: db)
        let stored = try store.cells()
        #expect(stored.count == 4)
        for repetition in 0..<2 {
            let pair = stored.filter { $0.repetition == repetition }
            let live = try #require(pair.first { $0.engine == "async" })
            let sim = try #require(pair.first { $0.engine == "sim" })
            #expect(live.serverSeed == sim.serverSeed)
            let liveFaults = try #require(cells[live.cellKey]).faulted
            let simFaults = try #require(cells[sim.cellKey]).faulted
            #expect(liveFaults == simFaults, "repetition \(repetition)")
            #expect((15...60).contains(simFaults.count), "about 30% of 124 requests: \(simFaults.count)")
        }
        #expect(
            Set(stored.filter { $0.engine == "sim" }.map { cells[$0.cellKey]!.faulted }).count == 2,
            "the two repetitions meet different faults")
    }

    @Test func specsThatTheSimulationCannotRunAreRefusedBeforeTheSweep() throws {
        let cases: [(fragment: String, keyPath: String, message: String)] = [
            (
                #""engines": ["async", "sim"], "fixed": { "networkMs": 10 }"#, "fixed.networkMs",
                "live engines run over loopback"
            ),
            (#""engines": ["sim"], "fixed": { "path": "/delay/1" }"#, "fixed.path", "/delay/1"),
            (#""engines": ["async"], "simRepetitions": 20"#, "simRepetitions", "does not list `sim`"),
        ]
        for item in cases {
            let text = #"{"name": "bad", "question": "q", "# + item.fragment + "}"
            #expect {
                _ = try ExperimentSpec.parse(text: text, path: "bad.json")
            } throws: { error in
                let text = "\(error)"
                return text.contains(item.keyPath) && text.contains(item.message)
            }
        }
    }

    @Test func simRepetitionsSetTheSimCellsOnly() throws {
        let spec = try ExperimentSpec.parse(
            text: #"{"name":"reps","question":"q","engines":["async","sim"],"repetitions":3,"simRepetitions":20}"#,
            path: "reps.json")
        let grid = spec.grid()
        #expect(grid.filter { $0.engine == .sim }.count == 20)
        #expect(grid.filter { $0.engine == .async }.count == 3)
    }
}
