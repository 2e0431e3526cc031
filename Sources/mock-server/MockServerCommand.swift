import ArgumentParser
import Foundation
import MockServer

/// `mock-server`: runs the fault-injecting mock HTTP server until SIGINT or SIGTERM.
@main
struct MockServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-server",
        abstract: "Fault-injecting mock HTTP server for the async-patterns lab.",
        discussion: """
            Prints one line, `listening http://HOST:PORT`, once it serves. Flags override the JSON configuration \
            given with --config or --config-json (see MockServerConfiguration for its keys).

            The overload model is the `capacity` object: {"limit": 32, "whenFull": "reject", "maxQueue": 0, \
            "retryAfter": "none"}. `limit` is the requests in service at once (0, the default: unlimited); above it \
            a request waits in a FIFO queue (`whenFull` "queue", the default; `maxQueue` caps the queue, 0: \
            unbounded) or is answered 503 at once ("reject"); a request arriving at a full queue also gets 503. \
            `retryAfter` is the `Retry-After` header of those 503s: absent, null or "none" (the default) for no \
            header, whole seconds such as 1 for a fixed value, or {"min": 1, "max": 5} for whole seconds drawn \
            uniformly per request from the seed, request id and attempt. Unknown keys and bad values are errors.
            """
    )

    @Option(help: "Address to bind (default 127.0.0.1).")
    var host: String?

    @Option(help: "Port; 0 picks a free one (default 0).")
    var port: Int?

    @Option(name: .customLong("event-loops"), help: "NIO event loop threads (default 2).")
    var eventLoops: Int?

    @Option(help: "Seed of every random decision (default 0).")
    var seed: UInt64?

    @Option(name: .customLong("latency-ms"), help: "Mean injected latency in milliseconds (default 0).")
    var latencyMs: Double?

    @Option(help: "Uniform jitter as a fraction of --latency-ms, 0...1 (default 0: fixed latency).")
    var jitter: Double?

    @Option(name: .customLong("error-rate"), help: "Fraction of requests that fail, 0...1 (default 0).")
    var errorRate: Double?

    @Option(help: "JSON configuration file.")
    var config: String?

    @Option(name: .customLong("config-json"), help: "JSON configuration given inline.")
    var configJSON: String?

    @Option(help: "Pin the process to this CPU (Linux); a refusal is a warning.")
    var cpu: Int?

    @Option(
        name: .customLong("realtime-priority"),
        help: ArgumentHelp(
            "Run every thread in the real-time FIFO class at this priority, 1...99 (Linux, needs root or "
                + "CAP_SYS_NICE), so injected latencies end on time on a busy machine; a refusal is a warning."))
    var realtimePriority: Int?

    @Flag(
        name: .customLong("exit-with-stdin"),
        help: ArgumentHelp(
            "Exit when standard input reaches end of file, and ignore SIGINT and SIGTERM. The experiment runner "
                + "passes a pipe here, so the server dies with the runner however the runner ends (even SIGKILL), "
                + "and a signal to the whole job (scancel, Ctrl-C) leaves it serving until the runner is done."))
    var exitWithStdin = false

    func validate() throws {
        if config != nil && configJSON != nil {
            throw ValidationError("give --config or --config-json, not both")
        }
        if let realtimePriority, !(1...99).contains(realtimePriority) {
            throw ValidationError("--realtime-priority \(realtimePriority): allowed: 1...99")
        }
    }

    func run() async throws {
        var configuration = try loadConfiguration()
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        if let eventLoops { configuration.eventLoops = eventLoops }
        if let seed { configuration.seed = seed }
        if let errorRate { configuration.errorRate = errorRate }
        if latencyMs != nil || jitter != nil {
            let ms = latencyMs ?? configuration.latency.meanMilliseconds
            let jitter = jitter ?? 0
            configuration.latency = jitter > 0 ? .uniform(ms: ms, jitter: jitter) : .fixed(ms: ms)
        }
        do {
            try configuration.validate()
        } catch {
            throw ValidationError(Self.flagNames(error.description))
        }
        if let cpu {
            do {
                try ProcessAffinity.pin(toCPU: cpu)
            } catch {
                FileHandle.standardError.write(Data("warning: \(error.description); running unpinned\n".utf8))
            }
        }
        if let realtimePriority {
            do {
                try ProcessAffinity.setRealtimePriority(realtimePriority)
            } catch {
                FileHandle.standardError.write(
                    Data("warning: \(error.description); running at normal priority\n".utf8))
            }
        }
        if exitWithStdin { ParentWatch.exitWhenStandardInputCloses() }
        try await MockServer.runUntilSignalled(configuration, handlingSignals: !exitWithStdin) {
            baseURL in
            // FileHandle writes straight to the descriptor: the line is flushed at once.
            FileHandle.standardOutput.write(Data("listening \(baseURL)\n".utf8))
        }
    }

    private func loadConfiguration() throws -> MockServerConfiguration {
        if let config {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: config))
            } catch {
                throw ValidationError("--config \(config): cannot read the file (\(error.localizedDescription))")
            }
            return try decode(data, source: config)
        }
        if let configJSON {
            return try decode(Data(configJSON.utf8), source: "--config-json")
        }
        return MockServerConfiguration()
    }

    private func decode(_ data: Data, source: String) throws -> MockServerConfiguration {
        do {
            return try MockServerConfiguration.decode(json: data, source: source)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// Names the flag beside the configuration key for the keys that have one.
    private static func flagNames(_ message: String) -> String {
        let flags = [
            "host": "--host", "port": "--port", "eventLoops": "--event-loops", "errorRate": "--error-rate",
            "latency.ms": "--latency-ms", "latency.jitter": "--jitter",
        ]
        for (key, flag) in flags where message.contains(": \(key) =") {
            return message.replacingOccurrences(of: ": \(key) =", with: ": \(key) (\(flag)) =")
        }
        return message
    }
}
