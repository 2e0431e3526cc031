import Foundation

extension LabStore {
    /// Copies the one finished cell of the database at `source` (as `experiments cell-child` writes it) into the
    /// cell `cellID` of this store: its samples and events, each in the order they were stored, in one transaction.
    /// Returns the source's cell row, whose status, error and client figures the caller completes `cellID` with.
    /// - Throws: `StoreError` when `source` is missing, foreign, of another schema version, or does not hold
    ///   exactly one finished (complete or failed) cell.
    public func importCell(from source: String, into cellID: Int64) throws -> CellRecord {
        let reader = try LabStore.openForReading(path: source)
        guard try reader.schemaVersion() == Schema.current else {
            throw StoreError.newerSchema(
                path: source, found: try reader.schemaVersion() ?? 0, supported: Schema.current)
        }
        let cells = try reader.cells(status: .complete) + reader.cells(status: .failed)
        guard cells.count == 1, let cell = cells.first else {
            throw StoreError.notALabDatabase(
                path: source, reason: "it holds \(cells.count) finished cells; a cell child's database holds one")
        }
        try database.run("ATTACH DATABASE ? AS cell_child", [.text(source)])
        defer { try? database.run("DETACH DATABASE cell_child") }
        try database.transaction {
            try database.run(
                """
                INSERT INTO samples (cell_id, request_id, attempt, intended_ns, start_ns, end_ns, status,
                    error_class, bytes, is_final, is_warmup)
                SELECT ?, request_id, attempt, intended_ns, start_ns, end_ns, status, error_class, bytes, is_final,
                    is_warmup
                FROM cell_child.samples WHERE cell_id = ? ORDER BY rowid
                """, [.integer(cellID), .integer(cell.id)])
            try database.run(
                """
                INSERT INTO events (cell_id, t_ns, kind, value, detail)
                SELECT ?, t_ns, kind, value, detail FROM cell_child.events WHERE cell_id = ? ORDER BY rowid
                """, [.integer(cellID), .integer(cell.id)])
        }
        return cell
    }
}
