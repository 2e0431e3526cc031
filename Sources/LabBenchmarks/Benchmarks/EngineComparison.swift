import AsyncHTTPClient
import AsyncPatterns
import Foundation
import HTTPEngines
import Lab

/// Settings of `make benchmark`, the seed-parity comparison of the engines (issue 4).
public struct EngineComparisonOptions: Sendable {
    /// Measured requests per engine and pooling. Default 5000.
    public var requests: Int = 5000
    /// Warm-up requests per run, excluded from the figures. Default 100.
    public var warmup: Int = 100
    /// Mean server latency, ms. Default 5.
    public var latencyMs: Double = 5
    /// Uniform jitter as a fraction of the latency. Default 0.2 (20%).
    public var jitter: Double = 0.2
    /// Concurrency of the threaded and async engines (sync is 1 by definition). Default 64.
    public var concurrency: Int = 64
    /// Engines compared, in table order. Default sync, threaded, async.
    public var engines: [EngineKind] = [.sync, .threaded, .async]
    /// Seed of the server's latency draws. Default 42.
    public var seed: UInt64 = 42

    /// The defaults of `make benchmark`.
    public init() {}
}

/// One row of the comparison table.
public struct EngineComparisonRow: Sendable {
    /// The engine.
    public var engine: EngineKind
    /// Connection reuse.
    public var pooling: Pooling
    /// Concurrency it ran at.
    public var concurrency: Int
    /// Measured requests.
    public var requests: Int
    /// Of which not successful.
    public var errors: Int
    /// Throughput, req/s.
    public var requestsPerSecond: Double
    /// Latency percentiles, ns.
    public var latency: LatencySummary
    /// This process's peak RSS during the run, bytes.
    public var peakRSSBytes: Int64
    /// Connections the server accepted during the run.
    public var serverConnections: Int64
    /// RPS over sync's with the same pooling; nil when sync did not run.
    public var speedUp: Double?
}

/// `make benchmark`: sync, threaded and async, pooled and naive, against the mock server with 5 ms ± 20% latency.
public struct EngineComparison: Sendable {
    /// The settings.
    public var options: EngineComparisonOptions

    /// Creates the comparison with `options`.
    public init(options: EngineComparisonOptions = .init()) {
        self.options = options
    }

    /// Starts its own mock server (unpinned, 2 event loops), runs every engine and pooling, prints the table and
    /// returns the rows.
    /// - Throws: `LabError` when the mock server is missing, or an engine's error.
    public func run() async throws -> [EngineComparisonRow] {
        BenchmarkSupport.warnIfDebug()
        let server = try MockServerProcess(executable: ExperimentRunner.siblingExecutable("mock-server"), cpu: nil)
        defer { server.stop() }
        return try await BenchmarkSupport.withAdminClient { admin in try await run(server: server, admin: admin) }
    }

    private func run(server: MockServerProcess, admin: HTTPClient) async throws -> [EngineComparisonRow] {
        let latency =
            #"{"seed":\#(options.seed),"latency":"#
            + #"{"kind":"uniform","ms":\#(options.latencyMs),"jitter":\#(options.jitter)}}"#
        print(
            "make benchmark: \(options.requests) requests per cell (+\(options.warmup) warm-up), server latency "
                + "\(options.latencyMs) ms ± \(Int(options.jitter * 100))% (uniform), threaded and async at "
                + "concurrency \(options.concurrency), mock server \(server.baseURL)")
        var rows: [EngineComparisonRow] = []
        for engine in options.engines {
            for pooling in [Pooling.pooled, .naive] {
                try await server.configure(json: latency, client: admin)
                let concurrency = engine == .sync ? 1 : options.concurrency
                let configuration = EngineConfiguration(
                    baseURL: server.baseURL, path: "/get", concurrency: concurrency, pooling: pooling,
                    requests: options.requests, warmupRequests: options.warmup, seed: options.seed)
                let sink = MeasuringSink()
                ProcessFigures.resetPeakRSS()
                _ = try await makeEngine(engine).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
                let peak = ProcessFigures.peakRSSBytes() ?? 0
                let counters = try await server.figures(client: admin, cpuBefore: nil)
                let classes = sink.errorClasses
                let row = EngineComparisonRow(
                    engine: engine, pooling: pooling, concurrency: concurrency, requests: classes.values.reduce(0, +),
                    errors: classes.filter { !$0.key.isSuccess }.values.reduce(0, +),
                    requestsPerSecond: sink.requestsPerSecond, latency: sink.summary, peakRSSBytes: peak,
                    serverConnections: counters.connections, speedUp: nil)
                print(
                    "  \(engine.rawValue) \(pooling.rawValue) c=\(concurrency): "
                        + String(format: "%.1f req/s", row.requestsPerSecond))
                rows.append(row)
            }
        }
        for index in rows.indices {
            if let sync = rows.first(where: { $0.engine == .sync && $0.pooling == rows[index].pooling }),
                sync.requestsPerSecond > 0
            {
                rows[index].speedUp = rows[index].requestsPerSecond / sync.requestsPerSecond
            }
        }
        print("")
        print(Self.table(rows))
        return rows
    }

    /// The rows as the Python original's table: RPS, p50, p95, p99, peak memory and speed-up against sync.
    public static func table(_ rows: [EngineComparisonRow]) -> String {
        let header = [
            "engine", "pooling", "conc", "requests", "errors", "RPS", "p50 ms", "p95 ms", "p99 ms", "peak MiB",
            "server conns", "speed-up",
        ]
        let cells = rows.map { row in
            [
                row.engine.rawValue, row.pooling.rawValue, String(row.concurrency), String(row.requests),
                String(row.errors), String(format: "%.1f", row.requestsPerSecond), BenchmarkSupport.ms(row.latency.p50),
                BenchmarkSupport.ms(row.latency.p95), BenchmarkSupport.ms(row.latency.p99),
                BenchmarkSupport.mib(row.peakRSSBytes), String(row.serverConnections),
                row.speedUp.map { String(format: "%.2fx", $0) } ?? "-",
            ]
        }
        let widths = header.indices.map { column in ([header] + cells).map { $0[column].count }.max() ?? 0 }
        func line(_ values: [String]) -> String {
            values.enumerated().map { index, value in
                index < 2
                    ? value.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                    : BenchmarkSupport.pad(value, widths[index])
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + cells.map(line)).joined(separator: "\n")
    }
}
