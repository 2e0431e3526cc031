import ArgumentParser
import Foundation
import Lab
import LabBenchmarks

extension ExperimentsCommand {
    /// `make benchmark`: the engines side by side, as the Python original's benchmark table.
    struct Benchmark: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare sync, threaded and async (pooled and naive) on the mock server (release builds).",
            discussion: """
                Prints RPS, p50, p95, p99, peak memory and speed-up against sync. Runs only on loopback against a \
                mock server it starts itself (unpinned, 2 event loops).
                """)

        @Option(name: .long, help: "Measured requests per engine and pooling.")
        var requests: Int = 5000

        @Option(name: .long, help: "Concurrency of the threaded and async engines (sync is always 1).")
        var concurrency: Int = 64

        @Option(name: .customLong("latency-ms"), help: "Mean server latency in ms.")
        var latencyMs: Double = 5

        @Option(name: .long, help: "Uniform latency jitter as a fraction of the latency.")
        var jitter: Double = 0.2

        func validate() throws {
            if requests < 1 || requests > 1_000_000 { throw ValidationError("--requests must be in 1...1000000") }
            if concurrency < 1 || concurrency > 4096 { throw ValidationError("--concurrency must be in 1...4096") }
            if latencyMs < 0 || latencyMs > 1000 { throw ValidationError("--latency-ms must be in 0...1000") }
            if jitter < 0 || jitter > 1 { throw ValidationError("--jitter must be in 0...1") }
        }

        func run() async throws {
            var options = EngineComparisonOptions()
            options.requests = requests
            options.concurrency = concurrency
            options.latencyMs = latencyMs
            options.jitter = jitter
            do {
                _ = try await EngineComparison(options: options).run()
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }

    /// `make benchmark-resilience`: the circuit breaker against a failing, then recovering, mock server.
    struct BenchmarkResilience: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "benchmark-resilience",
            abstract: "Drive a breaker + retries through healthy, failing and recovered phases; fail if it misbehaves.",
            discussion: """
                Exits 1 unless the breaker goes closed -> open while the server fails, open -> half_open, and \
                half_open -> closed after it recovers, with rejections and retries counted. `--no-breaker` runs the \
                same scenario without the breaker, to show that the check then fails.
                """)

        @Flag(name: .customLong("no-breaker"), help: "Run without the circuit breaker (the check must then fail).")
        var noBreaker = false

        @Flag(name: .customLong("no-retries"), help: "Run without retries.")
        var noRetries = false

        @Option(name: .customLong("failing-ms"), help: "Length of the 100%-errors phase in ms.")
        var failingMs: Double = 3000

        func validate() throws {
            if failingMs < 500 || failingMs > 60_000 { throw ValidationError("--failing-ms must be in 500...60000") }
        }

        func run() async throws {
            var options = ResilienceScenarioOptions()
            options.breakerEnabled = !noBreaker
            options.retriesEnabled = !noRetries
            options.failingMs = failingMs
            let result: ResilienceScenarioResult
            do {
                result = try await ResilienceScenario(options: options).runAgainstMockServerProcess()
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode.failure
            }
            if !result.passed { throw ExitCode.failure }
        }
    }

    /// `make benchmark-full`: a sustained run streaming to SQLite and JSONL with flat memory.
    struct BenchmarkFull: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "benchmark-full",
            abstract: "A sustained run (default 60 s, concurrency 200) streaming samples to SQLite and JSONL.",
            discussion: "Prints throughput, latency percentiles and RSS every 10 s, and the RSS growth at the end.")

        @Option(name: .long, help: "Run length in seconds.")
        var seconds: Int = 60

        @Option(name: .long, help: "Closed-loop concurrency of the async engine.")
        var concurrency: Int = 200

        @Option(name: .long, help: "The SQLite database to write (replaced).")
        var db: String = "results/benchmark-full.sqlite"

        @Option(name: .long, help: "The JSONL file to write (replaced); empty for none.")
        var jsonl: String = "results/benchmark-full.jsonl"

        func validate() throws {
            if seconds < 10 || seconds > 3600 { throw ValidationError("--seconds must be in 10...3600") }
            if concurrency < 1 || concurrency > 4096 { throw ValidationError("--concurrency must be in 1...4096") }
        }

        func run() async throws {
            var options = SustainedRunOptions()
            options.seconds = seconds
            options.concurrency = concurrency
            options.databasePath = db
            options.jsonlPath = jsonl.isEmpty ? nil : jsonl
            do {
                for path in [db, jsonl] where !path.isEmpty {
                    let folder = (path as NSString).deletingLastPathComponent
                    if !folder.isEmpty {
                        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                    }
                }
                _ = try await SustainedRun(options: options).runAgainstMockServerProcess()
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }
}
