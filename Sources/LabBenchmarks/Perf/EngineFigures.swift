import AsyncPatterns
import Foundation
import HTTPEngines
import Lab

/// `engine.<kind>.c<N>[.0ms].vs_wrk`: an engine's closed-loop throughput over wrk's, at the same concurrency,
/// against the same server and endpoint (`/get`), in the same run.
enum EngineVsWrk {
    /// One row of issue 4's table.
    struct Spec: Sendable {
        var name: String
        var kind: EngineKind
        var concurrency: Int
        var latencyMs: Double
        var target: String
    }

    /// Seconds each side runs.
    static let seconds = 5

    static let all: [Spec] = [
        Spec(name: "engine.sync.c1.vs_wrk", kind: .sync, concurrency: 1, latencyMs: 5, target: ">= 0.95"),
        Spec(name: "engine.threaded.c8.vs_wrk", kind: .threaded, concurrency: 8, latencyMs: 5, target: ">= 0.85"),
        Spec(name: "engine.threaded.c64.vs_wrk", kind: .threaded, concurrency: 64, latencyMs: 5, target: ">= 0.85"),
        Spec(name: "engine.async.c64.vs_wrk", kind: .async, concurrency: 64, latencyMs: 5, target: ">= 0.8"),
        Spec(name: "engine.async.c256.vs_wrk", kind: .async, concurrency: 256, latencyMs: 5, target: ">= 0.8"),
        Spec(name: "engine.async.c64.0ms.vs_wrk", kind: .async, concurrency: 64, latencyMs: 0, target: ">= 0.6"),
    ]

    /// Configures the server's fixed latency, then runs wrk and the engine three times each in the order ABBAAB
    /// (so a drift in the machine's background load hits both sides alike), and returns the ratio of the best run
    /// of each side: noise on a shared machine only slows a run down.
    static func measure(_ spec: Spec, _ context: PerfContext) async throws -> PerfFigure {
        let latency = spec.latencyMs > 0 ? #"{"latency":{"kind":"fixed","ms":\#(spec.latencyMs)}}"# : "{}"
        try await context.server.configure(json: latency, client: context.admin)
        let url = context.server.baseURL + "/get"
        var wrk: [Double] = []
        var engine: [(rps: Double, errors: Int)] = []
        for side in "ABBAAB" {
            if side == "A" {
                wrk.append(try Wrk.requestsPerSecond(url: url, connections: spec.concurrency, seconds: seconds))
            } else {
                engine.append(
                    try await closedLoopRPS(
                        kind: spec.kind, baseURL: context.server.baseURL, concurrency: spec.concurrency,
                        seconds: Double(seconds)))
            }
        }
        let bestWrk = wrk.max() ?? 0
        let bestEngine = engine.max { $0.rps < $1.rps } ?? (0, 0)
        guard bestWrk > 0 else { throw PerfSkip("wrk measured 0 req/s") }
        let runs = { (values: [Double]) in values.map { String(format: "%.0f", $0) }.joined(separator: ", ") }
        return PerfFigure(
            name: spec.name, value: bestEngine.rps / bestWrk, unit: "ratio", target: spec.target,
            command: "make perf ONLY=\(spec.name)",
            detail: "\(spec.kind.rawValue) "
                + String(format: "%.0f req/s (%d errors)", bestEngine.rps, bestEngine.errors)
                + String(format: "; wrk %.0f req/s", bestWrk)
                + " (best of 3 each, ABBAAB; \(spec.kind.rawValue) \(runs(engine.map(\.rps))); wrk \(runs(wrk)); "
                + "\(Wrk.commandLine(url: url, connections: spec.concurrency, seconds: seconds))); "
                + String(format: "%g ms fixed latency", spec.latencyMs))
    }

    /// The engine's measured RPS over a closed-loop run of about `seconds` (after a short warm-up), and the
    /// number of measured requests that did not succeed.
    static func closedLoopRPS(
        kind: EngineKind, baseURL: String, concurrency: Int, seconds: Double, path: String = "/get"
    ) async throws -> (rps: Double, errors: Int) {
        let sink = MeasuringSink(keepAll: false)
        let configuration = EngineConfiguration(
            baseURL: baseURL, path: path, concurrency: concurrency, requests: 50_000_000,
            warmupRequests: max(20, concurrency * 4), duration: .milliseconds(Int(seconds * 1000) + 300))
        _ = try await makeEngine(kind).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
        let errors = sink.errorClasses.filter { !$0.key.isSuccess }.values.reduce(0, +)
        return (sink.requestsPerSecond, errors)
    }
}

/// The mock server's own speed: `/health` against nginx's static file, and its overhead over the configured
/// latency.
enum MockFigures {
    /// `mock.health_rps`, `nginx.static_rps` and `mock.vs_nginx`: wrk -t1 -c64 -d5s against a separate, unpinned
    /// mock server with 2 event loops, then against nginx with 2 workers serving a small static file. The harness
    /// runs it with every CPU allowed (`CPUPlacement.withEveryCPU`), so wrk and both servers, which inherit this
    /// process's CPUs, may use them all, as in the reference figures.
    static func healthVsNginx() async throws -> [PerfFigure] {
        guard ExternalTools.find("wrk") != nil else {
            throw PerfSkip("wrk is not installed (make perf installs it: apt-get install wrk)")
        }
        let server = try MockServerProcess(executable: ExperimentRunner.siblingExecutable("mock-server"), cpu: nil)
        defer { server.stop() }
        let mockURL = server.baseURL + "/health"
        let mock = try Wrk.requestsPerSecond(url: mockURL, connections: 64, seconds: 5)
        server.stop()
        var figures = [
            PerfFigure(
                name: "mock.health_rps", value: mock, unit: "req/s", target: ">= 0",
                command: "make perf ONLY=mock.",
                detail: "\(Wrk.commandLine(url: mockURL, connections: 64, seconds: 5)); "
                    + "mock-server unpinned, 2 event loops")
        ]
        let nginx: StaticNginx
        do {
            nginx = try StaticNginx(workers: 2)
        } catch let skip as PerfSkip {
            throw PerfSkip(skip.description, partial: figures)
        }
        defer { nginx.stop() }
        let static_ = try Wrk.requestsPerSecond(url: nginx.url, connections: 64, seconds: 5)
        nginx.stop()
        figures.append(
            PerfFigure(
                name: "nginx.static_rps", value: static_, unit: "req/s", target: ">= 0",
                command: "make perf ONLY=mock.",
                detail: "\(Wrk.commandLine(url: nginx.url, connections: 64, seconds: 5)); nginx 2 workers, 15-byte file"
            ))
        figures.append(
            PerfFigure(
                name: "mock.vs_nginx", value: mock / static_, unit: "ratio", target: ">= 0.6",
                command: "make perf ONLY=mock.",
                detail: String(format: "mock %.0f req/s; nginx %.0f req/s", mock, static_)))
        return figures
    }

    /// `mock.p99_overhead_ms`: the server's p99 service time minus its configured 5 ms latency at 1000 req/s: the
    /// threaded engine in an open loop at 1000 req/s (16 workers) against a mock server pinned to its own CPU with
    /// one event loop, in the real-time class (priority 10) when the kernel allows it, so the figure is the server's
    /// overhead rather than CPU contention. Three runs of 5000 requests; the figure is the median of their p99s, as
    /// one run's p99 moves by milliseconds when the virtual machine's CPU is taken away for a moment.
    static func p99Overhead(_ context: PerfContext) async throws -> PerfFigure {
        let server = try MockServerProcess(
            executable: ExperimentRunner.siblingExecutable("mock-server"), cpu: CPUPlacement.serverCPU,
            realtimePriority: 10)
        defer { server.stop() }
        let configuration = EngineConfiguration(
            baseURL: server.baseURL, path: "/get", concurrency: 16, load: .openFixed(rate: 1000), requests: 5000,
            warmupRequests: 200)
        var runs: [(p99Ns: Double, meanNs: Double, rps: Double)] = []
        for _ in 0..<3 {
            try await server.configure(json: #"{"latency":{"kind":"fixed","ms":5}}"#, client: context.admin)
            let sink = MeasuringSink()
            _ = try await makeEngine(.threaded).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
            let counters = try await server.figures(client: context.admin, cpuBefore: nil)
            guard counters.serviceP99Ns > 0 else { throw PerfSkip("the server measured no service time") }
            runs.append((counters.serviceP99Ns, counters.serviceMeanNs, sink.requestsPerSecond))
        }
        runs.sort { $0.p99Ns < $1.p99Ns }
        let median = runs[1]
        let p99s = runs.map { BenchmarkSupport.ms($0.p99Ns) }.joined(separator: ", ")
        return PerfFigure(
            name: "mock.p99_overhead_ms", value: median.p99Ns / 1e6 - 5, unit: "ms", target: "<= 1",
            command: "make perf ONLY=mock.p99_overhead_ms",
            detail: "median of 3 runs: server p99 service \(BenchmarkSupport.ms(median.p99Ns)) ms (runs \(p99s)), mean "
                + "\(BenchmarkSupport.ms(median.meanNs)) ms at " + String(format: "%.0f req/s", median.rps)
                + " (threaded open loop at 1000 req/s, 16 workers, 5 ms fixed; mock-server on CPU "
                + "\(server.cpu.map(String.init) ?? "any"), 1 event loop, real-time priority 10)")
    }
}

/// `patterns.overhead_ns.*`: breaker + retry + budget + limiter per call on the success path.
enum PatternFigures {
    static func overhead(threads: Int) -> PerfFigure {
        let calls = threads == 1 ? 2_000_000 : 4_000_000
        // The median of three runs, so one preempted run does not decide the figure.
        let runs = (0..<3).map { _ in PatternsBenchmark.measure(threads: threads, calls: calls) }
            .sorted { $0.perCallNs < $1.perCallNs }
        let median = runs[1]
        let name = threads == 1 ? "patterns.overhead_ns.1thread" : "patterns.overhead_ns.\(threads)threads"
        return PerfFigure(
            name: name, value: median.perCallNs, unit: "ns", target: threads == 1 ? "<= 1000" : "<= 4000",
            command: "make perf ONLY=\(name)",
            detail: String(
                format: "median of 3 × %d calls on %d threads; wall %.0f ns/call overall; cpu %.0f ns/call",
                median.calls, threads, median.wallPerCallNs, median.cpuPerCallNs))
    }
}
