import Foundation
import LabStore
import Testing

@testable import Lab

/// The paired design: the server's stream depends on the server's and workload's parameters and the repetition
/// only, so every engine and client-side treatment meets the same faults.
@Suite(.serialized, .timeLimit(.minutes(2))) struct PairedSeedTests {
    private func cell(_ changes: [String: ParameterValue], repetition: Int = 0) throws -> CellPlan {
        let spec = try ExperimentSpec.parse(text: validSpec, path: "paired.json")
        var cell = try #require(spec.grid().first { $0.engine == .threaded })
        for (key, value) in changes { cell.parameters[key: key] = value }
        cell.repetition = repetition
        return cell
    }

    @Test func clientSideParametersLeaveTheServerStreamAndServerSideOnesChangeIt() throws {
        let base = try cell([:])
        let master: UInt64 = 42
        let clientSide: [[String: ParameterValue]] = [
            ["engine": .string("async")], ["backoff": .string("full")], ["maxAttempts": .int(5)],
            ["budget": .string("token:10")], ["breaker": .string("on")], ["pooling": .string("naive")],
            ["timeoutMs": .double(50)], ["concurrency": .int(64)], ["recorderPolicy": .string("drop_newest")],
        ]
        for change in clientSide {
            let changed = try cell(change)
            #expect(changed.serverSeed(master: master) == base.serverSeed(master: master), "\(change)")
            #expect(changed.seed(master: master) != base.seed(master: master), "\(change) kept the client's seed")
            #expect(changed.key != base.key)
        }
        let serverSide: [[String: ParameterValue]] = [
            ["errorRate": .double(0.3)], ["latencyMs": .double(7)], ["jitter": .double(0.2)],
            ["latencyModel": .string("exponential")], ["path": .string("/health")],
        ]
        for change in serverSide {
            #expect(try cell(change).serverSeed(master: master) != base.serverSeed(master: master), "\(change)")
        }
        #expect(try cell([:], repetition: 1).serverSeed(master: master) != base.serverSeed(master: master))
        #expect(base.serverSeed(master: master + 1) != base.serverSeed(master: master))
    }

    @Test func everyEngineAndBackoffMeetsTheSameFailedFirstAttempts() throws {
        let spec = try writeSpec(
            """
            {
              "name": "paired",
              "question": "Do all engines and treatments meet the same faults?",
              "engines": ["sync", "threaded", "async"],
              "axes": { "backoff": ["off", "full"] },
              "fixed": { "errorRate": 0.3, "concurrency": 4, "maxAttempts": 3, "baseMs": 1, "capMs": 2 },
              "requests": 80,
              "warmup": 4,
              "seed": 11
            }
            """)
        let db = try temporaryFolder() + "/paired.sqlite"
        let result = try runExperiments(["run", spec, "--db", db, "--no-pin"])
        #expect(result.status == 0, "\(result.errors)")
        let store = try LabStore.openForReading(path: db)
        let cells = try store.cells()
        #expect(cells.count == 6)
        var failedFirstAttempts: [String: Set<Int64>] = [:]
        for cell in cells {
            var failed = Set<Int64>()
            try store.forEachSample(cellID: cell.id) { sample in
                if sample.attempt == 1 && !sample.errorClass.isSuccess { failed.insert(sample.requestID) }
            }
            failedFirstAttempts["\(cell.engine) \(cell.params.contains("\"backoff\":\"full\"") ? "full" : "off")"] =
                failed
        }
        let sets = Set(failedFirstAttempts.values)
        #expect(sets.count == 1, "fault sets differ: \(failedFirstAttempts.mapValues(\.count))")
        // About 30% of 84 requests, so the check is not vacuous.
        #expect((10...45).contains(sets.first?.count ?? 0))
        #expect(Set(cells.compactMap(\.serverSeed)).count == 1)
    }
}

@Suite struct InterleavedOrderTests {
    @Test func repetitionsRunRoundRobinInASeededOrderThatSlicesKeep() throws {
        let text = validSpec.replacingOccurrences(of: #""seed": 7"#, with: #""seed": 7, "repetitions": 3"#)
        let spec = try ExperimentSpec.parse(text: text, path: "order.json")
        let grid = spec.grid()
        let order = grid.interleaved(master: spec.seed)
        #expect(Set(order.map(\.key)) == Set(grid.map(\.key)))
        // Round-robin: all of repetition 0, then 1, then 2.
        #expect(order.map(\.repetition) == order.map(\.repetition).sorted())
        // Within each repetition, the same shuffled order of points, not the grid's order.
        let points = (0..<3).map { rep in order.filter { $0.repetition == rep }.map(\.canonicalParameters) }
        #expect(points[0] == points[1] && points[1] == points[2])
        #expect(points[0] != grid.filter { $0.repetition == 0 }.map(\.canonicalParameters))
        // Another master seed shuffles differently; a slice keeps the full order's relative order.
        #expect(grid.interleaved(master: 8).map(\.key) != order.map(\.key))
        let slice = grid.filter { $0.index % 2 == 0 }
        #expect(slice.interleaved(master: spec.seed).map(\.key) == order.filter { $0.index % 2 == 0 }.map(\.key))
    }

    @Test func blocksRunOneAfterAnotherWithTheirRepetitionsRoundRobin() throws {
        let text = validSpec.replacingOccurrences(
            of: #""axes": { "concurrency": [1, 4] }"#, with: #""axes": { "concurrency": [1, 4, 16, 64] }"#
        ).replacingOccurrences(of: #""seed": 7"#, with: #""seed": 7, "repetitions": 3, "blockBy": "concurrency""#)
        let spec = try ExperimentSpec.parse(text: text, path: "blocks.json")
        #expect(spec.blockAxis == "concurrency")
        let grid = spec.grid()
        let order = grid.interleaved(master: spec.seed, blockAxis: spec.blockAxis)
        #expect(Set(order.map(\.key)) == Set(grid.map(\.key)))
        // Each concurrency's cells are contiguous, and within a block repetition 0 of every cell comes first.
        var blocks: [Int] = []
        for cell in order where blocks.last != cell.concurrency {
            #expect(!blocks.contains(cell.concurrency), "block \(cell.concurrency) is split")
            blocks.append(cell.concurrency)
        }
        #expect(Set(blocks) == [1, 4, 16, 64])
        for block in blocks {
            let reps = order.filter { $0.concurrency == block }.map(\.repetition)
            #expect(reps == reps.sorted(), "block \(block): \(reps)")
            #expect(order.filter { $0.concurrency == block }.count == (block == 1 ? 9 : 6))
        }
        // The blocks' order is shuffled from the master seed (not the grid's), and a resumed slice keeps it.
        func blockOrder(_ master: UInt64) -> [Int] {
            grid.interleaved(master: master, blockAxis: "concurrency").map(\.concurrency).reduce(into: []) {
                if $0.last != $1 { $0.append($1) }
            }
        }
        #expect(blockOrder(spec.seed) == blocks)
        #expect(Set((0..<8).map(blockOrder)).count > 1)
        let slice = grid.filter { $0.index % 3 != 0 }
        #expect(
            slice.interleaved(master: spec.seed, blockAxis: "concurrency").map(\.key)
                == order.filter { $0.index % 3 != 0 }.map(\.key))
        // Without blocks the order is the grid-wide round-robin.
        #expect(grid.interleaved(master: spec.seed).map(\.repetition) == order.map(\.repetition).sorted())
    }

    @Test func blockByMustNameAnAxis() throws {
        let text = validSpec.replacingOccurrences(of: #""seed": 7"#, with: #""seed": 7, "blockBy": "concurency""#)
        do {
            _ = try ExperimentSpec.parse(text: text, path: "blocks.json")
            Issue.record("a blockBy naming no axis was accepted")
        } catch {
            let message = "\(error)"
            #expect(message.contains("blockBy") && message.contains("Did you mean `concurrency`?"), "\(message)")
        }
    }
}

@Suite struct SchemaMigrationTests {
    /// A database written by schema version 1 (the report's fixture, written before `server_seed` existed).
    private let version1 = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ReportingTests/Fixtures/lab.db").path

    @Test func aVersion1DatabaseMergesAndMigratesKeepingItsCells() throws {
        let old = try LabStore.openForReading(path: version1)
        let cells = try old.cells()
        #expect(cells.count == 52 && cells.allSatisfy { $0.serverSeed == nil })

        let merged = try temporaryFolder() + "/merged.sqlite"
        #expect(try LabStore.openForWriting(path: merged).merge(from: version1) == 52)
        let mergedCells = try LabStore.openForReading(path: merged).cells()
        #expect(mergedCells.map(\.cellKey) == cells.map(\.cellKey))
        #expect(mergedCells.map(\.seed) == cells.map(\.seed))

        let copy = try temporaryFolder() + "/copy.sqlite"
        try FileManager.default.copyItem(atPath: version1, toPath: copy)
        do {
            let store = try LabStore.openForWriting(path: copy)
            #expect(try store.completedCellKeys() == Set(cells.map(\.cellKey)))
        }
        let migrated = try LabStore.openForReading(path: copy)
        let version = try migrated.database.query("SELECT max(version) AS v FROM schema_version").first?["v"].int
        #expect(version == 4)
        #expect(try migrated.cells().map(\.cellKey) == cells.map(\.cellKey))
        #expect(try migrated.cells().allSatisfy { $0.machine == nil })
    }
}
