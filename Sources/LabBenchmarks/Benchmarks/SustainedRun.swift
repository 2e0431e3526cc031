import AsyncPatterns
import Foundation
import HTTPEngines
import Lab
import LabStore

/// Settings of a sustained run (`make benchmark-full`, and `full.rss_growth_mb` in `make perf`).
public struct SustainedRunOptions: Sendable {
    /// Run length, seconds. Default 60.
    public var seconds: Int = 60
    /// Closed-loop concurrency. Default 200.
    public var concurrency: Int = 200
    /// The engine. Default `.async`.
    public var engine: EngineKind = .async
    /// The server's fixed latency, ms. Default 5.
    public var latencyMs: Double = 5
    /// Seconds between progress lines. Default 10.
    public var reportEvery: Int = 10
    /// SQLite database the samples stream into; nil: a temporary file, removed afterwards. Default nil.
    public var databasePath: String?
    /// JSONL file the same records stream into; nil: none. Default nil.
    public var jsonlPath: String?
    /// Print nothing (for `make perf`). Default false.
    public var quiet = false

    /// The defaults of `make benchmark-full`.
    public init() {}
}

/// What a sustained run measured.
public struct SustainedRunReport: Sendable {
    /// One progress interval.
    public struct Interval: Sendable {
        /// Seconds since the start at the end of the interval.
        public var atSeconds: Int
        /// Requests that ended in the interval.
        public var requests: Int
        /// Their rate, req/s.
        public var requestsPerSecond: Double
        /// Their latency percentiles.
        public var latency: LatencySummary
        /// This process's resident set size at the end of the interval, bytes.
        public var rssBytes: Int64
    }

    /// Progress intervals, oldest first.
    public var intervals: [Interval]
    /// Measured requests that reached a final outcome.
    public var requests: Int
    /// Of which not successful.
    public var errors: Int
    /// Measured throughput over the whole run, req/s.
    public var requestsPerSecond: Double
    /// Samples written to SQLite.
    public var samplesStored: Int
    /// RSS at the first interval boundary at or after 10 s (or the first one), bytes.
    public var rssAt10sBytes: Int64
    /// RSS at the end of the run (the last interval), bytes.
    public var rssEndBytes: Int64
    /// The largest scheduling lag of the Swift concurrency pool during the run (the store sink's lag
    /// monitor), ns; nil when not measured.
    public var lagMaxNs: Double?
    /// Its 95th percentile, ns; nil when not measured.
    public var lagP95Ns: Double?
    /// `rssEndBytes - rssAt10sBytes`.
    public var rssGrowthBytes: Int64 { rssEndBytes - rssAt10sBytes }
}

/// A long closed-loop run streaming every sample to SQLite (and JSONL), printing throughput, latency
/// percentiles and RSS every `reportEvery` seconds. Memory should stay flat: nothing is kept per request.
public struct SustainedRun: Sendable {
    /// The settings.
    public var options: SustainedRunOptions

    /// Creates the run with `options`.
    public init(options: SustainedRunOptions) {
        self.options = options
    }

    /// Runs against `baseURL`; `configure` applies a mock-server configuration (JSON) before the run.
    /// - Throws: engine, store or JSONL errors.
    public func run(
        baseURL: String, configure: @Sendable (String) async throws -> Void
    ) async throws -> SustainedRunReport {
        let options = self.options
        try await configure(#"{"latency":{"kind":"fixed","ms":\#(options.latencyMs)}}"#)
        var temporary: String?
        let databasePath: String
        if let path = options.databasePath {
            databasePath = path
            try? FileManager.default.removeItem(atPath: path)
        } else {
            let folder = try BenchmarkSupport.temporaryFolder("sustained")
            temporary = folder
            databasePath = folder + "/sustained.sqlite"
        }
        defer { if let temporary { try? FileManager.default.removeItem(atPath: temporary) } }
        let (store, run, cell) = try BenchmarkSupport.scratchStoreWithRecords(
            path: databasePath, experiment: "benchmark-full", engine: options.engine.rawValue,
            concurrency: options.concurrency)
        let cellID = cell.id
        var jsonl: JSONLWriter?
        if let jsonlPath = options.jsonlPath {
            let writer = try JSONLWriter(path: jsonlPath, append: false)
            try writer.writeRun(run)
            try writer.writeCell(cell)
            jsonl = writer
        }
        let storeSink = StoreSink(records: TeeRecordWriter([store] + (jsonl.map { [$0] } ?? [])), cellID: cellID)
        let sink = MeasuringSink(keepAll: false, forward: storeSink)
        let configuration = EngineConfiguration(
            baseURL: baseURL, path: "/get", concurrency: options.concurrency, requests: 500_000_000,
            warmupRequests: 0, duration: .seconds(options.seconds))
        if !options.quiet {
            print(
                "sustained run: \(options.engine.rawValue) engine, concurrency \(options.concurrency), "
                    + "\(options.seconds) s, \(options.latencyMs) ms fixed latency; SQLite \(databasePath)"
                    + (options.jsonlPath.map { ", JSONL \($0)" } ?? ""))
            print("      t  requests      req/s   p50 ms   p95 ms   p99 ms   max ms   RSS MiB")
        }
        let engineTask = Task {
            try await makeEngine(options.engine).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
        }
        let clock = ContinuousClock()
        let start = clock.now
        var intervals: [SustainedRunReport.Interval] = []
        var tick = 1
        while tick * options.reportEvery <= options.seconds {
            do {
                try await clock.sleep(until: start + .seconds(tick * options.reportEvery))
            } catch {
                engineTask.cancel()
                break
            }
            let window = sink.takeWindow()
            let interval = SustainedRunReport.Interval(
                atSeconds: tick * options.reportEvery, requests: window.count,
                requestsPerSecond: Double(window.count) / Double(options.reportEvery), latency: LatencySummary(window),
                rssBytes: BenchmarkSupport.currentRSSBytes())
            intervals.append(interval)
            if !options.quiet { print(Self.line(interval)) }
            tick += 1
        }
        _ = try await engineTask.value
        let stored = try storeSink.finish()
        try store.insertEvents(storeSink.events, cellID: cellID)
        try jsonl?.writeEvents(storeSink.events, cellID: cellID)
        try jsonl?.close()
        func event(_ kind: EventKind) -> Double? { storeSink.events.last { $0.kind == kind }?.value }
        let lagMaxNs = event(.lagMaxNs)
        let lagP95Ns = event(.lagP95Ns)
        var completed = cell
        completed.status = .complete
        completed.plannedRequests = sink.count
        completed.elapsedNs = Int64(BenchmarkSupport.seconds(clock.now - start) * 1e9)
        try store.completeCell(completed)
        try store.finishRun(id: run.id, status: .complete, endedAt: Timestamp.now())
        let rssEnd = intervals.last?.rssBytes ?? BenchmarkSupport.currentRSSBytes()
        let rssAt10 = (intervals.first { $0.atSeconds >= 10 } ?? intervals.first)?.rssBytes ?? rssEnd
        let classes = sink.errorClasses
        let report = SustainedRunReport(
            intervals: intervals, requests: classes.values.reduce(0, +),
            errors: classes.filter { !$0.key.isSuccess }.values.reduce(0, +),
            requestsPerSecond: sink.requestsPerSecond, samplesStored: stored, rssAt10sBytes: rssAt10,
            rssEndBytes: rssEnd, lagMaxNs: lagMaxNs, lagP95Ns: lagP95Ns)
        if !options.quiet {
            print(
                String(
                    format: "total: %d requests (%d errors), %.0f req/s; %d samples stored; ",
                    report.requests, report.errors, report.requestsPerSecond, stored)
                    + "RSS \(BenchmarkSupport.mib(rssAt10)) MiB at 10 s, "
                    + "\(BenchmarkSupport.mib(rssEnd)) MiB at the end "
                    + "(growth \(BenchmarkSupport.mib(report.rssGrowthBytes)) MiB)")
            if let lagMaxNs, let lagP95Ns {
                print(
                    "scheduling lag of the Swift concurrency pool: max \(BenchmarkSupport.ms(lagMaxNs)) ms, "
                        + "p95 \(BenchmarkSupport.ms(lagP95Ns)) ms")
            }
        }
        return report
    }

    static func line(_ interval: SustainedRunReport.Interval) -> String {
        let l = interval.latency
        let columns = [
            BenchmarkSupport.ms(l.p50), BenchmarkSupport.ms(l.p95), BenchmarkSupport.ms(l.p99),
            BenchmarkSupport.ms(l.max),
        ].map { BenchmarkSupport.pad($0, 7) }
        return String(
            format: "  %3d s  %8d  %9.0f  ", interval.atSeconds, interval.requests, interval.requestsPerSecond)
            + columns.joined(separator: "  ") + "  " + BenchmarkSupport.pad(BenchmarkSupport.mib(interval.rssBytes), 8)
    }
}

extension SustainedRun {
    /// `make benchmark-full`: starts a mock server subprocess (unpinned) and runs against it, printing progress.
    /// - Throws: `LabError` when the mock server is missing, or the run's errors.
    public func runAgainstMockServerProcess() async throws -> SustainedRunReport {
        BenchmarkSupport.warnIfDebug()
        let server = try MockServerProcess(executable: ExperimentRunner.siblingExecutable("mock-server"), cpu: nil)
        defer { server.stop() }
        return try await BenchmarkSupport.withAdminClient { admin in
            try await run(baseURL: server.baseURL) { try await server.configure(json: $0, client: admin) }
        }
    }
}
