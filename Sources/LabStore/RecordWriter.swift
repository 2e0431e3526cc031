import AsyncPatterns

/// Somewhere a sweep's records go: runs, cells, their samples and events. `LabStore` (SQLite) and `JSONLWriter`
/// (JSON Lines) are two; `TeeRecordWriter` writes each record to several.
///
/// Ids: the store assigns the run and cell ids, and every other output reuses them. `insertRun` and `insertCell`
/// return the record's id: a writer that assigns ids (`LabStore`) returns a new one, a writer that does not returns
/// the id the record carries, which must then be set. A tee hands each later writer the record with the id its first
/// writer returned, so the id-assigning writer goes first.
///
/// Reading (completed cells, a cell's samples and events) stays on `LabStore`.
public protocol RecordWriter {
    /// Records a new run, status `running`, and returns its id.
    /// - Throws: the writer's error (`StoreError`, `JSONLError`).
    func insertRun(_ run: RunRecord) throws -> Int64

    /// Records that the run `id` ended with `status` at `endedAt` (ISO 8601 UTC).
    /// - Throws: the writer's error.
    func finishRun(id: Int64, status: RunStatus, endedAt: String) throws

    /// Records a cell in state `running` and returns its id. Its samples and events may follow before it completes.
    /// - Throws: the writer's error.
    func insertCell(_ cell: CellRecord) throws -> Int64

    /// Records a cell's final state and figures; it replaces every earlier cell with the same key.
    /// `cell.id` is the id `insertCell` returned.
    /// - Throws: the writer's error.
    func completeCell(_ cell: CellRecord) throws

    /// Appends a batch of samples to the cell `cellID`, in order.
    /// - Throws: the writer's error.
    func insertSamples<C: Collection<AttemptSample>>(_ samples: C, cellID: Int64) throws

    /// Appends events to the cell `cellID`, in order.
    /// - Throws: the writer's error.
    func insertEvents(_ events: [EventRecord], cellID: Int64) throws

    /// Drops the cells still `running` (left by an interrupted run), with their samples and events.
    /// - Throws: the writer's error.
    func deleteUnfinishedCells() throws

    /// Hands everything written so far to the operating system, so a crash loses at most what follows.
    /// - Throws: the writer's error.
    func flush() throws
}
