import AsyncPatterns

/// Writes each record to several `RecordWriter`s in turn, in the order given: the SQLite store and, when asked, a
/// JSON Lines file. The first writer assigns the run and cell ids (see `RecordWriter`); the others receive the record
/// with that id. The first error stops the record there and is thrown, so a writer never holds a record that an
/// earlier one refused. (The shape of swift-log's `MultiplexLogHandler`.)
public struct TeeRecordWriter: RecordWriter {
    /// The writers, first to last. Never empty.
    public let writers: [any RecordWriter]

    /// A tee of `writers`, which must not be empty; put the one that assigns ids (`LabStore`) first.
    public init(_ writers: [any RecordWriter]) {
        precondition(!writers.isEmpty, "a TeeRecordWriter needs at least one writer")
        self.writers = writers
    }

    public func insertRun(_ run: RunRecord) throws -> Int64 {
        var run = run
        for writer in writers { run.id = try writer.insertRun(run) }
        return run.id
    }

    public func finishRun(id: Int64, status: RunStatus, endedAt: String) throws {
        for writer in writers { try writer.finishRun(id: id, status: status, endedAt: endedAt) }
    }

    public func insertCell(_ cell: CellRecord) throws -> Int64 {
        var cell = cell
        for writer in writers { cell.id = try writer.insertCell(cell) }
        return cell.id
    }

    public func completeCell(_ cell: CellRecord) throws {
        for writer in writers { try writer.completeCell(cell) }
    }

    public func insertSamples<C: Collection<AttemptSample>>(_ samples: C, cellID: Int64) throws {
        for writer in writers { try writer.insertSamples(samples, cellID: cellID) }
    }

    public func insertEvents(_ events: [EventRecord], cellID: Int64) throws {
        for writer in writers { try writer.insertEvents(events, cellID: cellID) }
    }

    public func deleteUnfinishedCells() throws {
        for writer in writers { try writer.deleteUnfinishedCells() }
    }

    public func flush() throws {
        for writer in writers { try writer.flush() }
    }

    /// Writes the samples and then the events that `store`, the first writer, holds for the cell `cellID` to every
    /// other writer: for a cell that reached the store another way (a child process's database copied in with
    /// `LabStore.importCell`). Samples go in batches of `batchSize`, in the order stored; events in time order.
    /// Does nothing when `store` is the only writer.
    /// - Throws: `StoreError` when the store cannot be read; the other writers' errors.
    public func copyCell(_ cellID: Int64, from store: LabStore, batchSize: Int = 8192) throws {
        precondition((writers.first as? LabStore) === store, "copyCell reads from the tee's first writer")
        let others = writers.dropFirst()
        guard !others.isEmpty else { return }
        var batch: [AttemptSample] = []
        batch.reserveCapacity(batchSize)
        func write() throws {
            for writer in others { try writer.insertSamples(batch, cellID: cellID) }
            batch.removeAll(keepingCapacity: true)
        }
        try store.forEachSample(cellID: cellID) { sample in
            batch.append(sample)
            if batch.count == batchSize { try write() }
        }
        try write()
        let events = try store.events(cellID: cellID)
        for writer in others { try writer.insertEvents(events, cellID: cellID) }
    }
}
