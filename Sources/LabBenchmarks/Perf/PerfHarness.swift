import AsyncHTTPClient
import AsyncPatterns
import Foundation
import HTTPEngines
import Lab

/// `make perf`: measures the project's performance figures in one run and prints them as a table, with
/// the command that reproduces each. Always succeeds when it could measure; the table says what missed.
/// A figure that cannot be measured here (wrk or nginx missing, say) is printed as `skipped: reason`.
public struct PerfHarness: Sendable {
    /// Only figures whose names start with this prefix; empty = all.
    public var only: String
    /// Where to write the JSON document.
    public var outputPath: String

    /// Creates the harness: `only` filters figures by name prefix, `outputPath` is where the JSON goes.
    public init(only: String = "", outputPath: String = "results/perf.json") {
        self.only = only
        self.outputPath = outputPath
    }

    func wants(_ name: String) -> Bool { only.isEmpty || name.hasPrefix(only) || only.hasPrefix(name) }

    /// Runs the selected figures, prints the table and writes `outputPath`.
    public func run() async throws -> [PerfFigure] {
        BenchmarkSupport.warnIfDebug()
        let results = PerfResults()
        let server = try MockServerProcess.start(
            executable: ExperimentRunner.siblingExecutable("mock-server"), pin: true)
        defer { server.stop() }
        let admin = HTTPClient(eventLoopGroupProvider: .singleton)
        let context = PerfContext(server: server, admin: admin)

        await measure(["engine.sync.c1.efficiency"], into: results) { [try await syncEfficiency(context)] }
        for spec in EngineVsWrk.all {
            await measure([spec.name], into: results) { [try await EngineVsWrk.measure(spec, context)] }
        }
        await measure(["engine.async.c100.p99_vs_server"], into: results) { [try await asyncP99VsServer(context)] }
        // Figures of the whole machine (the servers and wrk here, the pattern threads below) may use every CPU.
        await measure(["mock.health_rps", "nginx.static_rps", "mock.vs_nginx"], into: results) {
            try await CPUPlacement.withEveryCPU { try await MockFigures.healthVsNginx() }
        }
        // The p99 server runs in the real-time class, so the client may use its CPU too when it is idle.
        await measure(["mock.p99_overhead_ms"], into: results) {
            try await CPUPlacement.withEveryCPU { [try await MockFigures.p99Overhead(context)] }
        }
        await measure(["patterns.overhead_ns.1thread"], into: results) {
            await CPUPlacement.withEveryCPU { [PatternFigures.overhead(threads: 1)] }
        }
        await measure(["patterns.overhead_ns.8threads"], into: results) {
            await CPUPlacement.withEveryCPU { [PatternFigures.overhead(threads: 8)] }
        }
        await measure(["store.samples_per_s"], into: results) { [try StoreFigures.samplesPerSecond()] }
        await measure(["sim.attempts_per_s"], into: results) { [try SimulationFigures.attemptsPerSecond()] }
        await measure(["store.recording_overhead_pct"], into: results) {
            [try await StoreFigures.recordingOverhead(context)]
        }
        await measure(["report.seconds_1m_samples"], into: results) { [try ReportFigure.secondsFor1MSamples()] }
        await measure(["full.rss_growth_mb"], into: results) { [try await SustainedFigure.rssGrowth(context)] }

        try await admin.shutdown()
        let figures = results.figures
        print("")
        print(Self.table(figures))
        for (name, reason) in results.skipped { print("skipped: \(name): \(reason)") }
        try write(figures, skipped: results.skipped)
        print("wrote \(outputPath)")
        return figures
    }

    /// Runs `body` when any of `names` is wanted; prints each figure as it lands, and a skip or failure as
    /// `skipped: reason` without stopping the other figures.
    private func measure(
        _ names: [String], into results: PerfResults, _ body: () async throws -> [PerfFigure]
    ) async {
        guard names.contains(where: wants) else { return }
        print("measuring \(names.joined(separator: ", ")) ...")
        let stealBefore = CPUSteal.read()
        // Every figure of a wanted group lands: `mock.vs_nginx` is only meaningful beside `nginx.static_rps`.
        func land(_ figures: [PerfFigure]) {
            let steal = CPUSteal.percent(since: stealBefore)
            for var figure in figures {
                if let steal {
                    figure.detail += String(format: "; CPU steal %.1f%%", steal)
                    if steal >= CPUSteal.noisyPercent {
                        figure.detail += " (the host took CPU time from this machine: re-run when it is quieter)"
                    }
                }
                results.figures.append(figure)
                print(
                    "  \(figure.name) = \(String(format: "%.3f", figure.value)) \(figure.unit) "
                        + "(target \(figure.target): \(figure.pass ? "pass" : "MISS")) \(figure.detail)")
            }
        }
        do {
            land(try await body())
        } catch let skip as PerfSkip {
            land(skip.partial)
            let measured = Set(skip.partial.map(\.name))
            for name in names where !measured.contains(name) {
                results.skipped.append((name, skip.description))
                print("  skipped: \(name): \(skip.description)")
            }
        } catch {
            for name in names {
                results.skipped.append((name, "failed: \(error)"))
                print("  skipped: \(name): failed: \(error)")
            }
        }
    }

    /// The sync engine's throughput at concurrency 1 and 10 ms of latency, against the Little's-law bound
    /// taken from the server's measured mean service time.
    private func syncEfficiency(_ context: PerfContext) async throws -> PerfFigure {
        let server = context.server
        try await server.configure(json: #"{"latency":{"kind":"fixed","ms":10}}"#, client: context.admin)
        let sink = MeasuringSink()
        let configuration = EngineConfiguration(
            baseURL: server.baseURL, path: "/get", concurrency: 1, requests: 300, warmupRequests: 20)
        _ = try await makeEngine(.sync).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
        let counters = try await server.figures(client: context.admin, cpuBefore: nil)
        let rps = sink.requestsPerSecond
        let bound = 1e9 / counters.serviceMeanNs
        return PerfFigure(
            name: "engine.sync.c1.efficiency", value: rps / bound, unit: "ratio", target: ">= 0.9",
            command: "make perf ONLY=engine.sync.c1.efficiency",
            detail: String(
                format: "sync %.1f req/s; bound %.1f req/s (mean service %.3f ms)", rps, bound,
                counters.serviceMeanNs / 1e6))
    }

    /// The async engine's p99 at concurrency 100 and 5 ms of latency, over the server's p99 service time.
    private func asyncP99VsServer(_ context: PerfContext) async throws -> PerfFigure {
        try await context.server.configure(json: #"{"latency":{"kind":"fixed","ms":5}}"#, client: context.admin)
        let sink = MeasuringSink()
        let configuration = EngineConfiguration(
            baseURL: context.server.baseURL, path: "/get", concurrency: 100, requests: 10_000_000,
            warmupRequests: 1000, duration: .seconds(5))
        _ = try await makeEngine(.async).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
        let counters = try await context.server.figures(client: context.admin, cpuBefore: nil)
        let client = sink.summary
        guard counters.serviceP99Ns > 0, client.count > 0 else {
            throw PerfSkip("no requests measured (server p99 \(counters.serviceP99Ns) ns, \(client.count) samples)")
        }
        return PerfFigure(
            name: "engine.async.c100.p99_vs_server", value: client.p99 / counters.serviceP99Ns, unit: "ratio",
            target: "<= 3", command: "make perf ONLY=engine.async.c100.p99_vs_server",
            detail: "async p99 \(BenchmarkSupport.ms(client.p99)) ms (p50 \(BenchmarkSupport.ms(client.p50)) ms, "
                + String(format: "%.0f req/s", sink.requestsPerSecond)
                + "); server p99 service \(BenchmarkSupport.ms(counters.serviceP99Ns)) ms")
    }

    private func write(_ figures: [PerfFigure], skipped: [(String, String)]) throws {
        let provenance = Provenance.current()
        struct Skipped: Encodable {
            var name: String
            var reason: String
        }
        struct Document: Encodable {
            var figures: [PerfFigure]
            var skipped: [Skipped]
            var provenance: [String: String]
        }
        var build = "release"
        #if DEBUG
            build = "debug (figures not valid)"
        #endif
        let document = Document(
            figures: figures,
            skipped: skipped.map { Skipped(name: $0.0, reason: $0.1) },
            provenance: [
                "git_commit": provenance.gitCommit, "git_dirty": String(provenance.gitDirty),
                "swift_version": provenance.swiftVersion, "os": provenance.os, "kernel": provenance.kernel,
                "cpu_model": provenance.cpuModel, "cores": String(provenance.cores), "date": Timestamp.now(),
                "build": build,
            ])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let folder = (outputPath as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        try encoder.encode(document).write(to: URL(fileURLWithPath: outputPath))
    }

    /// The figures as an aligned text table.
    static func table(_ figures: [PerfFigure]) -> String {
        let header = ["figure", "value", "unit", "target", "result", "detail", "reproduce"]
        let rows = figures.map {
            [
                $0.name, String(format: "%.3f", $0.value), $0.unit, $0.target, $0.pass ? "pass" : "MISS", $0.detail,
                $0.command,
            ]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(
                separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}

/// What the figures share: the harness's mock server (pinned to one CPU, one event loop) and an admin client.
struct PerfContext: Sendable {
    let server: MockServerProcess
    let admin: HTTPClient
}

/// Figures and skips gathered so far (used from one task only).
final class PerfResults {
    var figures: [PerfFigure] = []
    var skipped: [(String, String)] = []
}

/// CPU time the hypervisor gave to other guests ("steal" in /proc/stat), which delays timers and wake-ups here.
enum CPUSteal {
    /// Steal above this share of CPU time marks a figure as measured on a noisy machine.
    static let noisyPercent = 2.0

    /// (steal, total) jiffies over all CPUs so far, or nil when /proc/stat cannot be read.
    static func read() -> (steal: Double, total: Double)? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") })
        else { return nil }
        let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard fields.count >= 8 else { return nil }
        return (fields[7], fields.reduce(0, +))
    }

    /// The share of CPU time stolen since `before`, in percent.
    static func percent(since before: (steal: Double, total: Double)?) -> Double? {
        guard let before, let after = read(), after.total > before.total else { return nil }
        return (after.steal - before.steal) / (after.total - before.total) * 100
    }
}
