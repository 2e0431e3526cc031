import LabStore

extension CellRecord {
    /// The cell's `params` decoded into the shared `CellParameters`; empty when the stored text is not an object of
    /// numbers and strings (no runner writes such a cell), so that one odd cell cannot stop a report.
    var parameters: CellParameters {
        (try? CellParameters(json: params)) ?? CellParameters()
    }
}
