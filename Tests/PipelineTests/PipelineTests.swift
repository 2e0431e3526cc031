import AsyncPatterns
import Foundation
import LabStore
import TestSupport
import Testing

private struct ConsumerFailure: Error, Equatable {}

@Suite(.timeLimit(.minutes(1)))
struct PipelineTests {
    static let producers = 4
    static let perProducer = 5_000

    /// Runs `producers` threads pushing `perProducer` tagged samples each into `pipeline`, and waits for them.
    private static func produce(into pipeline: Pipeline<AttemptSample>) {
        let group = DispatchGroup()
        for producer in 0..<producers {
            group.enter()
            Thread {
                let sink = PipelineSink(pipeline)
                for sequence in 0..<perProducer { sink.record(tagged(producer: producer, sequence: sequence)) }
                group.leave()
            }.start()
        }
        group.wait()
    }

    /// Several producers, a consumer writing to SQLite that is held back until the queue is full: every sample is
    /// either stored or counted as dropped, and each policy keeps the samples it promises.
    @Test(arguments: PipelineFullPolicy.allCases)
    func noSampleIsLostUnderBackpressure(policy: PipelineFullPolicy) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try LabStore.openForWriting(path: folder.appendingPathComponent("lab.sqlite").path)
        let runID = try store.insertRun(testRun())
        let cellID = try store.insertCell(testCell(runID: runID, key: "k"))
        let capacity = 512
        let pipeline = Pipeline<AttemptSample>(
            configuration: PipelineConfiguration(
                capacity: capacity, fullPolicy: policy, maxBatchSize: 128, maxBatchWait: .milliseconds(5)))
        let gate = Gate()
        let firstBatch = TestList<Int>()
        let exclusive = Exclusive(store)
        pipeline.startConsumer { batch in
            if firstBatch.count == 0 {
                firstBatch.append(batch.count)
                gate.wait()
            }
            try exclusive.value.insertSamples(batch, cellID: cellID)
        }
        // Prime: the consumer takes a one-sample batch and is held, so the queue then fills from empty.
        pipeline.push(tagged(producer: 9, sequence: 0))
        #expect(await waitUntil { firstBatch.count == 1 })
        let total = Self.producers * Self.perProducer + 1
        if policy == .block {
            // Producers must end up waiting for room: open the gate once one does, then let them finish.
            let done = Gate()
            Thread {
                Self.produce(into: pipeline)
                done.release()
            }.start()
            #expect(await waitUntil { pipeline.metrics.producerWaits > 0 })
            #expect(pipeline.depth == capacity)
            gate.release()
            try await onThread { done.wait() }
        } else {
            try await onThread { Self.produce(into: pipeline) }
            #expect(pipeline.depth == capacity)
            gate.release()
        }
        let metrics = try pipeline.finish()
        let stored = try storedSamples(store, cellID: cellID)

        #expect(metrics.produced == total)
        #expect(metrics.produced == stored.count + metrics.dropped)
        #expect(metrics.consumed == stored.count)
        #expect(metrics.rejected == 0 && metrics.lost == 0 && metrics.depth == 0)
        #expect(metrics.peakDepth == capacity)
        #expect(metrics.batches >= stored.count / 128)
        #expect(metrics.batchNanosMax > 0 && metrics.batchNanosTotal >= metrics.batchNanosMax)

        var byProducer: [Int: [Int]] = [:]
        for sample in stored {
            byProducer[Int(sample.requestID) / 1_000_000, default: []].append(Int(sample.requestID) % 1_000_000)
        }
        for (producer, sequences) in byProducer {
            // FIFO: each producer's samples are stored in the order it pushed them.
            #expect(sequences == sequences.sorted(), "producer \(producer)")
        }
        #expect(
            stored.allSatisfy {
                $0
                    == tagged(
                        producer: Int($0.requestID) / 1_000_000,
                        sequence: Int($0.requestID) % 1_000_000)
            })
        let afterFirstBatch = stored.count - 1
        switch policy {
        case .block:
            #expect(metrics.dropped == 0)
            #expect(stored.count == total)
        case .dropNewest:
            // The queue filled while the consumer was held, then every later push was dropped:
            // each producer kept a prefix of its samples.
            #expect(metrics.dropped > 0)
            #expect(afterFirstBatch == capacity)
            for (producer, sequences) in byProducer where producer < Self.producers {
                #expect(sequences == Array(0..<sequences.count), "producer \(producer)")
            }
        case .dropOldest:
            // The queue holds the newest samples: each producer kept a suffix of its samples, and the
            // last sample pushed survived.
            #expect(metrics.dropped > 0)
            #expect(afterFirstBatch == capacity)
            for (producer, sequences) in byProducer where producer < Self.producers {
                #expect(
                    sequences == Array((Self.perProducer - sequences.count)..<Self.perProducer),
                    "producer \(producer)")
            }
        }
    }

    @Test func batchesBySize() async throws {
        let pipeline = Pipeline<Int>(
            configuration: PipelineConfiguration(capacity: 1_000, maxBatchSize: 100, maxBatchWait: .seconds(3600)))
        let sizes = TestList<Int>()
        let seen = TestList<Int>()
        pipeline.startConsumer { batch in
            sizes.append(batch.count)
            seen.append(contentsOf: batch)
        }
        for value in 0..<1_050 { pipeline.push(value) }
        // Full batches go out without waiting for the (hour-long) max wait.
        #expect(await waitUntil { sizes.count == 10 })
        #expect(pipeline.depth == 50)
        let metrics = try pipeline.finish()
        #expect(sizes.all == Array(repeating: 100, count: 10) + [50])
        #expect(seen.all == Array(0..<1_050))
        #expect(metrics.batches == 11 && metrics.consumed == 1_050)
    }

    @Test func batchesByTime() async throws {
        let wait = Duration.milliseconds(50)
        let pipeline = Pipeline<Int>(
            configuration: PipelineConfiguration(capacity: 1_000, maxBatchSize: 1_000, maxBatchWait: wait))
        let sizes = TestList<Int>()
        pipeline.startConsumer { sizes.append($0.count) }
        let pushed = ContinuousClock.now
        pipeline.push(contentsOf: 0..<10)
        #expect(await waitUntil { sizes.count == 1 })
        // A partial batch goes out once the max wait has passed, never before.
        #expect(ContinuousClock.now - pushed >= wait)
        #expect(sizes.all == [10])
        try pipeline.finish()
    }

    @Test func flushDeliversAPartialBatchAtOnce() async throws {
        let pipeline = Pipeline<Int>(
            configuration: PipelineConfiguration(capacity: 100, maxBatchSize: 100, maxBatchWait: .seconds(3600)))
        let sizes = TestList<Int>()
        pipeline.startConsumer { sizes.append($0.count) }
        #expect(pipeline.push(contentsOf: 0..<7) == 7)
        pipeline.flush()
        #expect(await waitUntil { sizes.count == 1 })
        #expect(sizes.all == [7])
        try pipeline.finish()
    }

    @Test func finishDrainsEverythingAcceptedThenRejects() throws {
        let pipeline = Pipeline<Int>(
            configuration: PipelineConfiguration(capacity: 5_000, maxBatchSize: 1_000, maxBatchWait: .seconds(3600)))
        let gate = Gate()
        let seen = TestList<Int>()
        pipeline.startConsumer { batch in
            gate.wait()
            seen.append(contentsOf: batch)
        }
        for value in 0..<2_500 { pipeline.push(value) }
        gate.release()
        let metrics = try pipeline.finish()
        #expect(seen.all == Array(0..<2_500))
        #expect(metrics.consumed == 2_500 && metrics.depth == 0)
        #expect(pipeline.push(1) == .rejected)
        #expect(pipeline.metrics.rejected == 1)
        #expect(pipeline.metrics.produced == 2_501)
    }

    @Test func asyncSendersSuspendUnderBackpressure() async throws {
        let pipeline = Pipeline<Int>(
            configuration: PipelineConfiguration(capacity: 8, maxBatchSize: 4, maxBatchWait: .milliseconds(1)))
        let gate = Gate()
        let seen = TestList<Int>()
        pipeline.startConsumer { batch in
            gate.wait()
            seen.append(contentsOf: batch)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for sender in 0..<3 {
                group.addTask {
                    for value in 0..<100 {
                        let outcome = await pipeline.send(sender * 1_000 + value)
                        #expect(outcome == .accepted)
                    }
                }
            }
            group.addTask {
                while pipeline.metrics.producerWaits == 0 { try await Task.sleep(for: .milliseconds(1)) }
                gate.release()
            }
            try await group.waitForAll()
        }
        let metrics = try pipeline.finish()
        #expect(metrics.produced == 300 && metrics.consumed == 300 && metrics.dropped == 0)
        #expect(metrics.peakDepth <= 8)
        #expect(Set(seen.all).count == 300)
    }

    @Test func aFailingConsumerFailsThePipelineAndAccountsForEverything() async throws {
        let pipeline = Pipeline<Int>(
            configuration: PipelineConfiguration(capacity: 100, maxBatchSize: 10, maxBatchWait: .seconds(3600)))
        let calls = TestList<Int>()
        pipeline.startConsumer { batch in
            calls.append(batch.count)
            if calls.count == 2 { throw ConsumerFailure() }
        }
        for value in 0..<35 { pipeline.push(value) }
        #expect(await waitUntil { pipeline.metrics.lost > 0 })
        #expect(pipeline.push(99) == .rejected)
        #expect(throws: ConsumerFailure.self) { try pipeline.finish() }
        let metrics = pipeline.metrics
        #expect(metrics.consumed == 10)
        #expect(metrics.produced == metrics.consumed + metrics.dropped + metrics.rejected + metrics.lost)
    }

    @Test func consumeRunsOnTheCallingThreadAndRecordsDepthPoints() throws {
        let pipeline = Pipeline<Int>(
            configuration: PipelineConfiguration(
                capacity: 64, maxBatchSize: 16, maxBatchWait: .seconds(3600), depthSampleInterval: .zero))
        pipeline.push(contentsOf: 0..<40)
        pipeline.sampleDepth()
        pipeline.close()
        var sizes: [Int] = []
        try pipeline.consume { sizes.append($0.count) }
        #expect(sizes == [16, 16, 8])
        let points = pipeline.drainDepthSeries()
        #expect(points.map(\.depth) == [40, 40, 24, 8])
        #expect(points.map(\.tNs) == points.map(\.tNs).sorted())
        #expect(pipeline.depthSeries.isEmpty)
    }

    @Test func pushOutcomesNameWhatHappened() {
        let newest = Pipeline<Int>(
            configuration: PipelineConfiguration(
                capacity: 2, fullPolicy: .dropNewest,
                maxBatchSize: 1))
        #expect(newest.push(1) == .accepted && newest.push(2) == .accepted && newest.push(3) == .dropped)
        let oldest = Pipeline<Int>(
            configuration: PipelineConfiguration(
                capacity: 2, fullPolicy: .dropOldest,
                maxBatchSize: 1))
        #expect(oldest.push(1) == .accepted && oldest.push(2) == .accepted)
        #expect(oldest.push(3) == .acceptedDroppingOldest)
        oldest.close()
        var seen: [Int] = []
        try? oldest.consume { seen += $0 }
        #expect(seen == [2, 3])
        #expect(oldest.metrics.dropped == 1 && newest.metrics.dropped == 1)
    }
}

@Test func configurationValidationNamesTheField() throws {
    try PipelineConfiguration.default.validate()
    #expect {
        try PipelineConfiguration(capacity: 10).validate()
    } throws: { error in
        (error as? PipelineConfigurationError)?.description
            == "pipeline: capacity = 10 is not allowed; use a value >= maxBatchSize (8192)"
    }
    #expect(throws: PipelineConfigurationError.self) { try PipelineConfiguration(maxBatchWait: .zero).validate() }
}
