import Foundation

extension LabStore {
    /// Copies every run and every complete cell (with its samples and events) of the database at `source`
    /// into this one. A cell whose key is already complete here is replaced, as a re-run would be.
    /// Returns the number of cells copied.
    /// - Throws: `StoreError` when `source` is missing, foreign, or has another schema version.
    @discardableResult
    public func merge(from source: String) throws -> Int {
        let reader = try LabStore.openForReading(path: source)
        let version = try reader.schemaVersion() ?? 0
        // Cells of older versions lack only columns added since, which read as absent.
        guard (1...Schema.current).contains(version) else {
            throw StoreError.newerSchema(path: source, found: version, supported: Schema.current)
        }
        try database.run("ATTACH DATABASE ? AS source", [.text(source)])
        defer { try? database.run("DETACH DATABASE source") }
        return try database.transaction {
            var runIDs: [Int64: Int64] = [:]
            for run in try reader.runs() {
                var copy = run
                copy.id = 0
                runIDs[run.id] = try insertRun(copy)
            }
            var copied = 0
            for cell in try reader.cells() {
                var copy = cell
                copy.runID = runIDs[cell.runID] ?? cell.runID
                copy.id = try insertCell(copy)
                try database.run(
                    """
                    INSERT INTO samples (cell_id, request_id, attempt, intended_ns, start_ns, end_ns, status,
                        error_class, bytes, is_final, is_warmup)
                    SELECT ?, request_id, attempt, intended_ns, start_ns, end_ns, status, error_class, bytes, is_final,
                        is_warmup
                    FROM source.samples WHERE cell_id = ? ORDER BY rowid
                    """, [.integer(copy.id), .integer(cell.id)])
                try database.run(
                    """
                    INSERT INTO events (cell_id, t_ns, kind, value, detail)
                    SELECT ?, t_ns, kind, value, detail FROM source.events WHERE cell_id = ? ORDER BY rowid
                    """, [.integer(copy.id), .integer(cell.id)])
                try completeCellInTransaction(copy)
                copied += 1
            }
            return copied
        }
    }
}
