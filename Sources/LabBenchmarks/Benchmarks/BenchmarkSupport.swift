import AsyncHTTPClient
import AsyncPatterns
import Foundation
import Lab
import LabStore

/// Latency percentiles of a set of samples, in nanoseconds.
public struct LatencySummary: Sendable, Hashable {
    /// Samples summarised.
    public var count: Int
    /// Median, ns.
    public var p50: Double
    /// 95th percentile, ns.
    public var p95: Double
    /// 99th percentile, ns.
    public var p99: Double
    /// Largest, ns.
    public var max: Double

    /// Summarises `latencies` (ns, any order); all zero when empty.
    public init(_ latencies: [Int64]) {
        let sorted = latencies.sorted()
        count = sorted.count
        func rank(_ q: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let index = Swift.min(sorted.count - 1, Swift.max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))
            return Double(sorted[index])
        }
        p50 = rank(0.50)
        p95 = rank(0.95)
        p99 = rank(0.99)
        self.max = Double(sorted.last ?? 0)
    }
}

/// A `SampleSink` that keeps only what the benchmarks need: the latency of every measured final sample, the
/// measured span, counts by error class, and a window that can be taken and restarted (periodic reports).
/// Optionally forwards every sample to another sink (the store). Thread-safe.
final class MeasuringSink: SampleSink, Sendable {
    private struct State {
        var latencies: [Int64] = []
        var windowLatencies: [Int64] = []
        var firstIntended = Int64.max
        var lastEnd = Int64.min
        var classes: [ErrorClass: Int] = [:]
        var attemptCount = 0
    }

    private let state = LockedBox(State())
    private let keepAll: Bool
    private let forward: (any SampleSink)?

    /// - Parameters:
    ///   - keepAll: keep every measured latency (for whole-run percentiles); off for long runs.
    ///   - forward: a sink that also gets every sample, e.g. the SQLite store.
    init(keepAll: Bool = true, forward: (any SampleSink)? = nil) {
        self.keepAll = keepAll
        self.forward = forward
    }

    func record(_ sample: AttemptSample) {
        forward?.record(sample)
        state.withLock { state in
            state.attemptCount += 1
            guard sample.isFinal && !sample.isWarmup else { return }
            let latency = sample.correctedLatencyNs
            if keepAll { state.latencies.append(latency) }
            state.windowLatencies.append(latency)
            if sample.intendedNs < state.firstIntended { state.firstIntended = sample.intendedNs }
            if sample.endNs > state.lastEnd { state.lastEnd = sample.endNs }
            state.classes[sample.errorClass, default: 0] += 1
        }
    }

    /// Measured final samples so far.
    var count: Int { state.withLock { $0.classes.values.reduce(0, +) } }

    /// Attempts recorded, warm-up and retries included.
    var attempts: Int { state.withLock { $0.attemptCount } }

    /// Measured requests per second: final measured samples over the span from the first intended send to the
    /// last end.
    var requestsPerSecond: Double {
        state.withLock { state in
            let n = state.classes.values.reduce(0, +)
            guard n > 0, state.lastEnd > state.firstIntended else { return 0 }
            return Double(n) / (Double(state.lastEnd - state.firstIntended) / 1e9)
        }
    }

    /// Percentiles over the whole run (needs `keepAll`).
    var summary: LatencySummary { LatencySummary(state.withLock { $0.latencies }) }

    /// Final measured samples by error class.
    var errorClasses: [ErrorClass: Int] { state.withLock { $0.classes } }

    /// The latencies since the last call, and restarts the window.
    func takeWindow() -> [Int64] {
        state.withLock { state in
            defer { state.windowLatencies.removeAll(keepingCapacity: true) }
            return state.windowLatencies
        }
    }
}

/// A sink that drops every sample (the "recording off" peer of the store sink).
struct DiscardingSink: SampleSink {
    func record(_ sample: AttemptSample) {}
}

/// Small helpers shared by the benchmarks and the perf harness.
enum BenchmarkSupport {
    /// Prints a warning on debug builds: their speed figures are not valid.
    static func warnIfDebug() {
        #if DEBUG
            FileHandle.standardError.write(
                Data(
                    ("warning: this is a DEBUG build; its speed figures are NOT valid. "
                        + "Use `swift build -c release` (the make targets do).\n").utf8))
        #endif
    }

    /// Current resident set size of this process (VmRSS), in bytes; 0 where /proc is missing.
    static func currentRSSBytes() -> Int64 {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return (line.split(separator: " ").dropFirst().first.flatMap { Int64($0) } ?? 0) * 1024
        }
        return 0
    }

    /// A new empty folder under the temporary directory.
    static func temporaryFolder(_ prefix: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "\(prefix)-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(
            at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        return url.path
    }

    /// Seconds of a duration.
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// A store with one run and one cell, ready for samples (LabStore closes on deinit).
    static func scratchStore(path: String, experiment: String, engine: String, concurrency: Int) throws -> (
        store: LabStore, cellID: Int64
    ) {
        let (store, _, cell) = try scratchStoreWithRecords(
            path: path, experiment: experiment, engine: engine, concurrency: concurrency)
        return (store, cell.id)
    }

    /// `scratchStore`, also returning the run and cell records as stored (with their ids), e.g. for JSONL.
    static func scratchStoreWithRecords(path: String, experiment: String, engine: String, concurrency: Int) throws
        -> (store: LabStore, run: RunRecord, cell: CellRecord)
    {
        let store = try LabStore.openForWriting(path: path)
        let provenance = Provenance.current()
        var run = RunRecord(
            experiment: experiment, status: .running, startedAt: Timestamp.now(), masterSeed: 0,
            specPath: "(benchmark)", specText: "{}", specSHA256: SHA256.hex("{}"),
            commandLine: CommandLine.arguments.joined(separator: " "), gitCommit: provenance.gitCommit,
            gitDirty: provenance.gitDirty, swiftVersion: provenance.swiftVersion, os: provenance.os,
            kernel: provenance.kernel, cpuModel: provenance.cpuModel, cores: provenance.cores,
            memoryBytes: provenance.memoryBytes, target: "mock")
        run.id = try store.insertRun(run)
        var cell = CellRecord(
            cellKey: "\(experiment)-\(engine)-\(concurrency)", runID: run.id, experiment: experiment, engine: engine,
            concurrency: concurrency, repetition: 0, params: "{\"concurrency\":\(concurrency)}", seed: 0,
            status: .running, plannedRequests: 0, warmupRequests: 0, startedAt: Timestamp.now())
        cell.id = try store.insertCell(cell)
        return (store, run, cell)
    }

    /// Milliseconds text of a nanosecond value, e.g. `5.123`.
    static func ms(_ ns: Double) -> String { String(format: "%.3f", ns / 1e6) }

    /// Runs `body` with an HTTP client for the mock server's admin endpoints, and shuts the client down after.
    static func withAdminClient<R>(_ body: (HTTPClient) async throws -> R) async throws -> R {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// `text` right-aligned in `width` columns.
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    /// Mebibytes text of a byte count, e.g. `12.3`.
    static func mib(_ bytes: Int64) -> String { String(format: "%.1f", Double(bytes) / 1_048_576) }
}
