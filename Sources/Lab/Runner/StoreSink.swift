import AsyncPatterns
import Foundation
import LabStore

/// The recording path of one cell: engine → bounded pipeline (backpressure, never drops) → a writer
/// thread that stores batches in SQLite (and JSONL when asked), so an engine never waits on disk and
/// memory stays bounded by the pipeline's capacity however long the run.
final class StoreSink: SampleSink, @unchecked Sendable {
    private let pipeline: Pipeline<AttemptSample>
    private let lag: LagMonitor

    /// Starts the writer thread and the lag monitor for one cell. `store` and `jsonl` must not be used
    /// elsewhere until `finish()` returns.
    init(store: LabStore, jsonl: JSONLWriter? = nil, cellID: Int64, origin: ContinuousClock.Instant = .now) {
        pipeline = Pipeline(
            configuration: PipelineConfiguration(capacity: 65_536, fullPolicy: .block, maxBatchSize: 8192),
            origin: origin)
        lag = LagMonitor(configuration: .init(interval: .milliseconds(20)), origin: origin)
        let writers = Writers(store: store, jsonl: jsonl)
        pipeline.startConsumer(name: "store-writer") { batch in
            try writers.store.insertSamples(batch, cellID: cellID)
            try writers.jsonl?.writeSamples(batch, cellID: cellID)
        }
        lag.start()
    }

    func record(_ sample: AttemptSample) {
        _ = pipeline.push(sample)
    }

    /// Drains the pipeline, stops the writer and the lag monitor, and returns how many samples were stored.
    /// Afterwards `events` holds queue depth and scheduling lag over time, with their summaries.
    /// - Throws: the first error the writer hit.
    func finish() throws -> Int {
        let summary = lag.stop()
        let metrics = try pipeline.finish()
        var events = pipeline.drainDepthSeries().map {
            EventRecord(tNs: $0.tNs, kind: "queue_depth", value: Double($0.depth))
        }
        events += lag.drainSamples().map { EventRecord(tNs: $0.tNs, kind: "lag_ns", value: Double($0.lagNs)) }
        let end = events.map(\.tNs).max() ?? 0
        events.append(EventRecord(tNs: end, kind: "lag_max_ns", value: Double(summary.maxNs)))
        events.append(EventRecord(tNs: end, kind: "lag_p95_ns", value: Double(summary.p95Ns)))
        events.append(
            EventRecord(
                tNs: end, kind: "pipeline", value: Double(metrics.peakDepth),
                detail: "produced \(metrics.produced), stored \(metrics.consumed), dropped \(metrics.dropped), "
                    + "batches \(metrics.batches), producer waits \(metrics.producerWaits), "
                    + "max batch \(metrics.batchNanosMax / 1000) us"))
        self.events = events
        return metrics.consumed
    }

    /// After `finish()`: the recording's events for the `events` table.
    private(set) var events: [EventRecord] = []

    /// The store and JSONL writer, handed to the writer thread.
    private struct Writers: @unchecked Sendable {
        let store: LabStore
        let jsonl: JSONLWriter?
    }
}
