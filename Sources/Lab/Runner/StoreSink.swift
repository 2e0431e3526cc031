import AsyncPatterns
import Foundation
import LabStore
import NIOPosix

/// The recording path of one cell: engine → bounded pipeline → a writer thread that hands batches to a
/// `RecordWriter` (the SQLite store, or the runner's tee of store and JSONL), so an engine never waits on disk
/// and memory stays bounded by the pipeline's capacity however long the run. It also samples scheduling lag (Swift concurrency pool and
/// NIO event loops) and resident memory over the cell.
package final class StoreSink: SampleSink, Sendable {
    private let pipeline: Pipeline<AttemptSample>
    private let lag: LagMonitor
    private let nioLag: LagMonitor
    private let memory: MemorySampler
    /// Written by `finish()`, read through `events`.
    private let finishedEvents = LockedBox<[EventRecord]>([])

    /// Starts the writer thread, the lag monitor and the memory sampler for one cell. `records` must not be used
    /// elsewhere until `finish()` returns.
    package init(
        records: any RecordWriter, cellID: Int64, origin: ContinuousClock.Instant = .now,
        recorder: RecorderSettings = .init()
    ) {
        pipeline = Pipeline(
            configuration: PipelineConfiguration(
                capacity: recorder.capacity, fullPolicy: recorder.policy, maxBatchSize: recorder.batch),
            origin: origin)
        lag = LagMonitor(configuration: .init(interval: .milliseconds(20)), origin: origin)
        nioLag = LagMonitor(configuration: .init(interval: .milliseconds(20)), origin: origin)
        memory = MemorySampler(origin: origin)
        let writers = Writers(records: records)
        let delay = recorder.writerDelay
        // Nice 10 for the writer thread (Linux sets it per thread): when the engines and the writer share a CPU,
        // the engine's threads get ~90% of it, so a single event loop is not slowed more than 64 threads would be;
        // the pipeline holds the samples meanwhile.
        let lowerPriority: @Sendable () -> Void = { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10) }
        pipeline.startConsumer(name: "store-writer", onStart: lowerPriority) { batch in
            if delay > .zero { Thread.sleep(forTimeInterval: Double(delay.nanoseconds) / 1e9) }
            try writers.records.insertSamples(batch, cellID: cellID)
        }
        lag.start()
        // The first of the shared NIO event loops: the async engine always runs on it (see `AsyncEngine`), and
        // async_ahc and the admin client use these loops too.
        var loops = MultiThreadedEventLoopGroup.singleton.makeIterator()
        let firstLoop = loops.next()!
        nioLag.start { body in firstLoop.execute(body) }
        memory.start()
    }

    package func record(_ sample: AttemptSample) {
        _ = pipeline.push(sample)
    }

    /// Drains the pipeline, stops the writer and the lag monitor, and returns how many samples were stored.
    /// Afterwards `events` holds queue depth and scheduling lag over time, with their summaries.
    /// - Throws: the first error the writer hit.
    package func finish() throws -> Int {
        let summary = lag.stop()
        let nioSummary = nioLag.stop()
        let metrics = try pipeline.finish()
        let rss = memory.stop()
        var events = pipeline.drainDepthSeries().map {
            EventRecord(tNs: $0.tNs, kind: .queueDepth, value: Double($0.depth))
        }
        events += lag.drainSamples().map { EventRecord(tNs: $0.tNs, kind: .lagNs, value: Double($0.lagNs)) }
        events += nioLag.drainSamples().map {
            EventRecord(tNs: $0.tNs, kind: .nioLagNs, value: Double($0.lagNs))
        }
        events += rss.map { EventRecord(tNs: $0.tNs, kind: .rssBytes, value: Double($0.bytes)) }
        let end = events.map(\.tNs).max() ?? 0
        events.append(EventRecord(tNs: end, kind: .lagMaxNs, value: Double(summary.maxNs)))
        events.append(EventRecord(tNs: end, kind: .lagP95Ns, value: Double(summary.p95Ns)))
        events.append(EventRecord(tNs: end, kind: .nioLagMaxNs, value: Double(nioSummary.maxNs)))
        events.append(EventRecord(tNs: end, kind: .nioLagP95Ns, value: Double(nioSummary.p95Ns)))
        events.append(
            EventRecord(
                tNs: end, kind: .pipeline, value: Double(metrics.peakDepth),
                detail: "produced \(metrics.produced), stored \(metrics.consumed), dropped \(metrics.dropped), "
                    + "batches \(metrics.batches), producer waits \(metrics.producerWaits), "
                    + "max batch \(metrics.batchNanosMax / 1000) us"))
        if metrics.dropped > 0 {
            events.append(EventRecord(tNs: end, kind: .pipelineDropped, value: Double(metrics.dropped)))
        }
        finishedEvents.withLock { $0 = events }
        return metrics.consumed
    }

    /// After `finish()`: the recording's events for the `events` table.
    package var events: [EventRecord] { finishedEvents.withLock { $0 } }

    /// The record writer, lent to the writer thread.
    ///
    /// `@unchecked Sendable`, proof: the writers (`LabStore`, `JSONLWriter`) are not thread-safe, and are used by
    /// one thread at a time. `init` hands them to the pipeline's writer thread, and its caller must not use them
    /// until `finish()` returns; `finish()` returns only after `Pipeline.finish()` has joined that thread (it waits
    /// for the thread's last batch under the pipeline's lock, which orders the writer's last use before the
    /// caller's next one). Swift cannot express such a borrow across threads: `sending` would move them for good.
    private struct Writers: @unchecked Sendable {
        let records: any RecordWriter
    }
}

/// How a cell's samples are recorded: the pipeline's capacity, full policy and batch size, and an optional
/// extra delay per batch in the writer (to study a consumer slower than its producer).
package struct RecorderSettings: Sendable {
    var policy: PipelineFullPolicy = .block
    var capacity = 65_536
    var batch = 8192
    var writerDelay: Duration = .zero

    package init() {}

    /// The settings of a cell, from its `recorderPolicy`, `recorderCapacity`, `recorderBatch` and
    /// `writerDelayMs` parameters.
    init(cell: CellPlan) {
        policy = PipelineFullPolicy(rawValue: cell[.recorderPolicy].description) ?? .block
        capacity = Int(cell[.recorderCapacity].number ?? 65_536)
        batch = Int(cell[.recorderBatch].number ?? 8192)
        writerDelay = .microseconds(Int64((cell[.writerDelayMs].number ?? 0) * 1000))
    }
}

/// Samples this process's resident memory every 100 ms on a timer, for the `rss_bytes` series.
final class MemorySampler: Sendable {
    private struct State {
        let timer = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
        var points: [(tNs: Int64, bytes: Int64)] = []
    }

    private let origin: ContinuousClock.Instant
    private let state = LockedBox(State())

    init(origin: ContinuousClock.Instant) {
        self.origin = origin
    }

    func start() {
        state.withLock { state in
            state.timer.schedule(deadline: .now(), repeating: .milliseconds(100))
            state.timer.setEventHandler { [self] in
                guard let bytes = ProcessFigures.residentBytes() else { return }
                let t = (ContinuousClock.now - origin).nanoseconds
                self.state.withLock { state in
                    if state.points.count < 100_000 { state.points.append((t, bytes)) }
                }
            }
            state.timer.resume()
        }
    }

    /// Stops sampling and returns the series.
    func stop() -> [(tNs: Int64, bytes: Int64)] {
        state.withLock { state in
            state.timer.cancel()
            return state.points
        }
    }
}
