/// `cells.csv` of an experiment folder: one row per complete cell (one repetition of one point), with every
/// parameter and every per-cell metric the page uses, so each table can be recomputed without the database.
///
/// Columns, in order: `cell_key`, `run_id`, `engine`, `concurrency`, `repetition`; then one `param.<name>`
/// column per cell parameter (every cell carries all of them); then one column per metric of `Metric.catalogue`
/// that the page's answer names or that is non-zero in some cell, named by its id, empty where the cell cannot
/// give it. Numbers are written in the shortest
/// form that reads back to the same double.
enum CellsCSV {
    static func render(_ experiment: ExperimentModel) -> String {
        let rows = experiment.cells.joined().sorted {
            ($0.cell.engine, $0.cell.concurrency, $0.cell.cellKey) < (
                $1.cell.engine, $1.cell.concurrency, $1.cell.cellKey
            )
        }
        var parameters: [String] = []
        for cell in rows {
            for name in cell.params.keys where !parameters.contains(name) { parameters.append(name) }
        }
        parameters.sort()
        let values: [[Double?]] = rows.map { cell in
            Metric.catalogue.map { metric in metric.value(cell, experiment.events[cell.cell.id] ?? []) }
        }
        // A metric that is zero or missing in every cell says nothing, unless the page's answer names it.
        let named = Set(experiment.spec.answer?.metrics ?? [])
        let used = Metric.catalogue.indices.filter { index in
            named.contains(Metric.catalogue[index].id)
                || values.contains { ($0[index]?.isFinite ?? false) && $0[index] != 0 }
        }
        var out =
            (["cell_key", "run_id", "engine", "concurrency", "repetition"] + parameters.map { "param." + $0 }
            + used.map { Metric.catalogue[$0].id }).joined(separator: ",") + "\n"
        for (row, cell) in rows.enumerated() {
            var fields = [
                DataRenderers.csvField(cell.cell.cellKey), "\(cell.cell.runID)",
                DataRenderers.csvField(cell.cell.engine),
                "\(cell.cell.concurrency)", "\(cell.cell.repetition)",
            ]
            fields += parameters.map { name in DataRenderers.csvField(cell.params[key: name]?.description ?? "") }
            fields += used.map { index in
                guard let value = values[row][index], value.isFinite else { return "" }
                return "\(value)"
            }
            out += fields.joined(separator: ",") + "\n"
        }
        return out
    }
}
