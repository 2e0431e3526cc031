import AsyncPatterns
import Foundation
import LabStore

/// A `SampleSink` that streams samples into the store from a writer thread of its own, in batched
/// transactions, so an engine never waits on SQLite and memory stays bounded by the batch size.
///
/// Producers append under a lock; the writer wakes when a batch is full or every `flushInterval`,
/// takes the whole buffer and inserts it in one transaction. `finish()` drains and joins.
final class StoreSink: SampleSink, @unchecked Sendable {
    private let condition = NSCondition()
    private var buffer: [AttemptSample] = []
    private var finished = false
    private var writeError: Error?
    private var written = 0
    private let batchSize: Int
    private let flushInterval: TimeInterval
    private let store: LabStore
    private let cellID: Int64
    private let done = DispatchSemaphore(value: 0)

    /// Starts the writer thread for one cell. The store must not be used elsewhere until `finish()` returns.
    init(store: LabStore, cellID: Int64, batchSize: Int = 8192, flushInterval: TimeInterval = 0.2) {
        self.store = store
        self.cellID = cellID
        self.batchSize = batchSize
        self.flushInterval = flushInterval
        buffer.reserveCapacity(batchSize)
        let thread = Thread { [self] in writerLoop() }
        thread.name = "store-writer"
        thread.start()
    }

    func record(_ sample: AttemptSample) {
        condition.lock()
        buffer.append(sample)
        let full = buffer.count >= batchSize
        condition.unlock()
        if full { condition.signal() }
    }

    /// Writes what is left, stops the writer and returns how many samples were stored.
    /// - Throws: the first store error the writer hit.
    func finish() throws -> Int {
        condition.lock()
        finished = true
        condition.unlock()
        condition.signal()
        done.wait()
        if let writeError { throw writeError }
        return written
    }

    private func writerLoop() {
        while true {
            condition.lock()
            if buffer.count < batchSize && !finished {
                _ = condition.wait(until: Date().addingTimeInterval(flushInterval))
            }
            let batch = buffer
            buffer.removeAll(keepingCapacity: true)
            let stop = finished
            condition.unlock()
            if !batch.isEmpty && writeError == nil {
                do {
                    try store.insertSamples(batch, cellID: cellID)
                    written += batch.count
                } catch {
                    writeError = error
                }
            }
            if stop {
                condition.lock()
                let empty = buffer.isEmpty
                condition.unlock()
                if empty { break }
            }
        }
        done.signal()
    }
}
