import AsyncHTTPClient
import AsyncPatterns
import Foundation
import HTTPEngines

/// `make perf`: measures the project's performance figures in one run and prints them as a table, with
/// the command that reproduces each. Always succeeds when it could measure; the table says what missed.
public struct PerfHarness: Sendable {
    /// Only figures whose names start with this prefix; empty = all.
    public var only: String
    /// Where to write the JSON document.
    public var outputPath: String

    public init(only: String = "", outputPath: String = "results/perf.json") {
        self.only = only
        self.outputPath = outputPath
    }

    private func wants(_ name: String) -> Bool { only.isEmpty || name.hasPrefix(only) || only.hasPrefix(name) }

    /// Runs the selected figures, prints the table and writes `outputPath`.
    public func run() async throws -> [PerfFigure] {
        var figures: [PerfFigure] = []
        let server = try MockServerProcess(
            executable: ExperimentRunner.siblingExecutable("mock-server"),
            cpu: ProcessInfo.processInfo.activeProcessorCount >= 2 ? ProcessInfo.processInfo.activeProcessorCount - 1 : nil)
        defer { server.stop() }
        let admin = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            if wants("engine.sync.c1.efficiency") {
                figures.append(try await syncEfficiency(server: server, admin: admin))
            }
        } catch {
            try? await admin.shutdown()
            throw error
        }
        try await admin.shutdown()
        print(Self.table(figures))
        try write(figures)
        return figures
    }

    /// The sync engine's throughput at concurrency 1 and 10 ms of latency, against the Little's-law bound
    /// taken from the server's measured mean service time.
    private func syncEfficiency(server: MockServerProcess, admin: HTTPClient) async throws -> PerfFigure {
        try await server.configure(json: #"{"latency":{"kind":"fixed","ms":10}}"#, client: admin)
        let sink = CollectingSink()
        let configuration = EngineConfiguration(
            baseURL: server.baseURL, path: "/get", concurrency: 1, requests: 300, warmupRequests: 20)
        _ = try await makeEngine(.sync).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
        let counters = try await server.figures(client: admin, cpuBefore: nil)
        let measured = sink.all.filter { !$0.isWarmup && $0.isFinal }
        let span = Double((measured.map(\.endNs).max() ?? 0) - (measured.map(\.intendedNs).min() ?? 0)) / 1e9
        let rps = Double(measured.count) / span
        let bound = 1e9 / counters.serviceMeanNs
        return PerfFigure(
            name: "engine.sync.c1.efficiency", value: rps / bound, unit: "ratio", target: ">= 0.9",
            command: "make perf ONLY=engine.sync.c1.efficiency",
            detail: String(format: "sync %.1f req/s; bound %.1f req/s (mean service %.3f ms)", rps, bound, counters.serviceMeanNs / 1e6))
    }

    private func write(_ figures: [PerfFigure]) throws {
        let provenance = Provenance.current()
        struct Document: Encodable {
            var figures: [PerfFigure]
            var provenance: [String: String]
        }
        let document = Document(
            figures: figures,
            provenance: [
                "git_commit": provenance.gitCommit, "git_dirty": String(provenance.gitDirty),
                "swift_version": provenance.swiftVersion, "os": provenance.os, "kernel": provenance.kernel,
                "cpu_model": provenance.cpuModel, "cores": String(provenance.cores), "date": Timestamp.now(),
            ])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let folder = (outputPath as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try encoder.encode(document).write(to: URL(fileURLWithPath: outputPath))
    }

    /// The figures as an aligned text table.
    static func table(_ figures: [PerfFigure]) -> String {
        let header = ["figure", "value", "unit", "target", "result", "detail", "reproduce"]
        let rows = figures.map {
            [$0.name, String(format: "%.3f", $0.value), $0.unit, $0.target, $0.pass ? "pass" : "MISS", $0.detail, $0.command]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
