import AsyncPatterns

/// The `RecordWriter` calls as JSON lines (see `JSONLWriter` for each line type). A JSON Lines file assigns no ids:
/// runs and cells arrive with the ids the store gave them, so the writer comes after the store in a tee.
extension JSONLWriter: RecordWriter {
    /// Writes a `run` line and returns `run.id`, which must be set.
    public func insertRun(_ run: RunRecord) throws -> Int64 {
        precondition(run.id != 0, "a JSONL run line needs the id the store assigned; put the store first")
        try writeRun(run)
        return run.id
    }

    /// Writes a `run_status` line.
    public func finishRun(id: Int64, status: RunStatus, endedAt: String) throws {
        try writeRunStatus(id: id, status: status, endedAt: endedAt)
    }

    /// Writes a `cell` line and returns `cell.id`, which must be set.
    public func insertCell(_ cell: CellRecord) throws -> Int64 {
        precondition(cell.id != 0, "a JSONL cell line needs the id the store assigned; put the store first")
        try writeCell(cell)
        return cell.id
    }

    /// Writes the cell's `cell` line again, with its final state; it supersedes the earlier one.
    public func completeCell(_ cell: CellRecord) throws {
        try writeCell(cell)
    }

    /// Writes one `sample` line per sample.
    public func insertSamples<C: Collection<AttemptSample>>(_ samples: C, cellID: Int64) throws {
        try writeSamples(samples, cellID: cellID)
    }

    /// Writes one `event` line per event.
    public func insertEvents(_ events: [EventRecord], cellID: Int64) throws {
        try writeEvents(events, cellID: cellID)
    }

    /// Writes a `delete_unfinished_cells` line.
    public func deleteUnfinishedCells() throws {
        try writeDeleteUnfinishedCells()
    }
}
