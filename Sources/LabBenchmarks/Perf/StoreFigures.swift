import AsyncPatterns
import Foundation
import HTTPEngines
import Lab
import LabStore
import Reporting
import ReportingSynthetic

/// The store's figures: raw insert speed, and what recording costs a running engine.
enum StoreFigures {
    /// `store.samples_per_s`: `LabStore.insertSamples` in 8192-sample batches into a temporary database.
    static func samplesPerSecond() throws -> PerfFigure {
        let folder = try BenchmarkSupport.temporaryFolder("perf-store")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (store, cellID) = try BenchmarkSupport.scratchStore(
            path: folder + "/store.sqlite", experiment: "perf-store", engine: "async", concurrency: 1)
        let batchSize = 8192
        let batches = 128
        var batch = (0..<batchSize).map { index in
            AttemptSample(
                requestID: Int64(index), attempt: 1, intendedNs: Int64(index) * 1000, startNs: Int64(index) * 1000,
                endNs: Int64(index) * 1000 + 5_123_456, status: 200, errorClass: .ok, bytes: 312, isFinal: true)
        }
        let clock = ContinuousClock()
        var elapsed = Duration.zero
        for round in 0..<batches {
            for index in batch.indices {
                batch[index].requestID = Int64(round * batchSize + index)
                batch[index].endNs += 1
            }
            let start = clock.now
            try store.insertSamples(batch, cellID: cellID)
            elapsed += clock.now - start
        }
        let total = batches * batchSize
        let stored = try store.database.query("SELECT count(*) AS n FROM samples").first?["n"].int ?? 0
        guard stored == Int64(total) else { throw PerfSkip("stored \(stored) samples of \(total)") }
        let seconds = BenchmarkSupport.seconds(elapsed)
        return PerfFigure(
            name: "store.samples_per_s", value: Double(total) / seconds, unit: "samples/s", target: ">= 500000",
            command: "make perf ONLY=store.samples_per_s",
            detail: String(
                format: "%d samples in %d batches of %d: %.3f s (WAL, one transaction per batch)",
                total, batches, batchSize, seconds))
    }

    /// `store.recording_overhead_pct`: (1 − RPS with samples streamed to SQLite by the runner's `StoreSink` ÷ RPS
    /// with samples discarded) × 100, for the async engine at concurrency 64 and 5 ms fixed latency. Ten pairs of
    /// 2 s runs, in ABBA order (off-on, on-off, ...) so that a drift favours neither; the figure is the median of
    /// the ten paired ratios, and the detail gives their quartiles so the noise is visible.
    static func recordingOverhead(_ context: PerfContext) async throws -> PerfFigure {
        try await context.server.configure(json: #"{"latency":{"kind":"fixed","ms":5}}"#, client: context.admin)
        let folder = try BenchmarkSupport.temporaryFolder("perf-recording")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let configuration = EngineConfiguration(
            baseURL: context.server.baseURL, path: "/get", concurrency: 64, requests: 50_000_000,
            warmupRequests: 256, duration: .seconds(2))
        var ratios: [Double] = []
        var on: [Double] = []
        var off: [Double] = []
        var stored = 0
        for pair in 0..<10 {
            var rates = (on: 0.0, off: 0.0)
            for recording in pair % 2 == 0 ? [false, true] : [true, false] {
                if recording {
                    let (store, cellID) = try BenchmarkSupport.scratchStore(
                        path: folder + "/run\(pair).sqlite", experiment: "perf-recording", engine: "async",
                        concurrency: 64)
                    let storeSink = StoreSink(records: store, cellID: cellID)
                    let sink = MeasuringSink(keepAll: false, forward: storeSink)
                    _ = try await makeEngine(.async).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
                    stored += try storeSink.finish()
                    rates.on = sink.requestsPerSecond
                } else {
                    let sink = MeasuringSink(keepAll: false, forward: DiscardingSink())
                    _ = try await makeEngine(.async).run(configuration, policy: SingleAttemptPolicy(), sink: sink)
                    rates.off = sink.requestsPerSecond
                }
            }
            on.append(rates.on)
            off.append(rates.off)
            ratios.append(rates.on / rates.off)
        }
        let sortedRatios = ratios.sorted()
        let overhead = { (ratio: Double) in String(format: "%.1f", (1 - ratio) * 100) }
        return PerfFigure(
            name: "store.recording_overhead_pct", value: (1 - median(ratios)) * 100, unit: "%", target: "<= 3",
            command: "make perf ONLY=store.recording_overhead_pct",
            detail: "median of 10 paired 2 s runs (ABBA), async c64 5 ms; pair overheads from "
                + "\(overhead(sortedRatios[9])) to \(overhead(sortedRatios[0])) %, quartiles "
                + "\(overhead(sortedRatios[7])) to \(overhead(sortedRatios[2])) %; "
                + String(
                    format: "median on %.0f req/s (%d samples stored), off %.0f req/s", median(on), stored, median(off))
        )
    }

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

/// `report.seconds_1m_samples`: one full render of a synthetic database with at least 1M samples.
enum ReportFigure {
    static func secondsFor1MSamples() throws -> PerfFigure {
        let folder = try BenchmarkSupport.temporaryFolder("perf-report")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let database = folder + "/synthetic.sqlite"
        let written = try SyntheticLab.write(path: database, .sized(samples: 1_000_000))
        let clock = ContinuousClock()
        let start = clock.now
        let summary = try renderReport(ReportOptions(databasePath: database, outputDirectory: folder + "/report"))
        let seconds = BenchmarkSupport.seconds(clock.now - start)
        guard summary.samplesRead >= 1_000_000 else {
            throw PerfSkip("the synthetic database has \(summary.samplesRead) samples, fewer than 1M")
        }
        return PerfFigure(
            name: "report.seconds_1m_samples", value: seconds, unit: "s", target: "<= 10",
            command: "make perf ONLY=report.seconds_1m_samples",
            detail: "renderReport over \(summary.samplesRead) samples (\(written) written), "
                + "\(summary.files.count) files, \(summary.chartsRendered.count) charts"
                + (summary.gnuplotMissing ? " (gnuplot missing: charts not rendered)" : ""))
    }
}

/// `full.rss_growth_mb`: RSS growth from 10 s to the end of a 20 s sustained run (async, c=200, 5 ms, SQLite).
enum SustainedFigure {
    static func rssGrowth(_ context: PerfContext) async throws -> PerfFigure {
        var options = SustainedRunOptions()
        options.seconds = 20
        options.reportEvery = 5
        options.quiet = true
        let report = try await SustainedRun(options: options).run(
            baseURL: context.server.baseURL,
            configure: { try await context.server.configure(json: $0, client: context.admin) })
        return PerfFigure(
            name: "full.rss_growth_mb", value: Double(report.rssGrowthBytes) / 1_048_576, unit: "MiB", target: "<= 5",
            command: "make perf ONLY=full.rss_growth_mb",
            detail: "RSS \(BenchmarkSupport.mib(report.rssAt10sBytes)) MiB at 10 s, "
                + "\(BenchmarkSupport.mib(report.rssEndBytes)) MiB at \(options.seconds) s; "
                + String(
                    format: "%d requests at %.0f req/s, %d samples stored; async c200 5 ms",
                    report.requests, report.requestsPerSecond, report.samplesStored))
    }
}
