import AsyncPatterns
import Foundation
import LabStore

/// Carries a non-Sendable value (a `LabStore`) into a consumer thread that is its only user until joined.
final class Exclusive<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A gate a consumer waits on until the test opens it.
final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var open = false

    func wait() {
        condition.lock()
        while !open { condition.wait() }
        condition.unlock()
    }

    func release() {
        condition.lock()
        open = true
        condition.broadcast()
        condition.unlock()
    }
}

/// A sample whose request id encodes its producer and sequence number: `producer * 1_000_000 + sequence`.
func tagged(producer: Int, sequence: Int) -> AttemptSample {
    let id = Int64(producer * 1_000_000 + sequence)
    return AttemptSample(
        requestID: id, attempt: Int32(1 + sequence % 3), intendedNs: id * 7, startNs: id * 7 + 1, endNs: id * 7 + 99,
        status: sequence % 5 == 0 ? 503 : 200, errorClass: sequence % 5 == 0 ? .http5xx : .ok,
        bytes: Int64(sequence % 1000), isFinal: sequence % 3 == 2, isWarmup: sequence < 10)
}

func testRun() -> RunRecord {
    RunRecord(
        experiment: "pipeline \"quoted\"\n", status: .running, startedAt: "2026-01-01T00:00:00Z",
        masterSeed: UInt64.max - 1, specPath: "experiments/demo.json", specText: "{\n\t\"a\": \"é ✓ \u{1}\"\n}",
        specSHA256: "ab", commandLine: "experiments run --db x", gitCommit: "abc", gitDirty: true,
        swiftVersion: "6.3", os: "Linux", kernel: "6", cpuModel: "cpu \\ model", cores: 2, memoryBytes: 1 << 33,
        target: "mock")
}

func testCell(runID: Int64, key: String) -> CellRecord {
    CellRecord(
        cellKey: key, runID: runID, experiment: "pipeline", engine: "async", concurrency: 64, repetition: 1,
        params: #"{"engine":"async","error_rate":0.1}"#, seed: UInt64.max, status: .running, plannedRequests: 100,
        warmupRequests: 10, startedAt: "2026-01-01T00:00:01Z")
}

/// Every sample of a cell, in insertion order.
func storedSamples(_ store: LabStore, cellID: Int64) throws -> [AttemptSample] {
    var samples: [AttemptSample] = []
    try store.forEachSample(cellID: cellID) { samples.append($0) }
    return samples
}
