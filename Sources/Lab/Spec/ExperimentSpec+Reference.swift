import LabStore

extension ExperimentSpec {
    /// The cell parameters wrk cannot honour, with the value each must keep in a `wrk` cell: wrk sends every request
    /// once, closed loop, with no client-side policy.
    static let referenceRequirements: [(name: String, value: ParameterValue, why: String)] = [
        ("load", .string("closed"), "wrk runs closed loop only (a fixed number of connections)"),
        ("backoff", .string("off"), "wrk never retries"),
        ("budget", .string("none"), "wrk never retries, so it has no retry budget"),
        ("breaker", .string("off"), "wrk has no circuit breaker"),
        ("throttle", .string("off"), "wrk has no adaptive throttle"),
        ("limiter", .string("off"), "wrk has no concurrency limiter"),
    ]

    /// Problems of the `wrk` cells of the grid: a parameter it cannot honour, reported once per parameter with the
    /// first cell that shows it.
    func referenceProblems() -> [SpecError] {
        var problems: [SpecError] = []
        var seen = Set<String>()
        for cell in grid() where cell.engine == .wrk {
            for requirement in Self.referenceRequirements where cell[requirement.name] != requirement.value {
                guard seen.insert(requirement.name).inserted else { continue }
                let keyPath =
                    axes.contains(where: { $0.name == requirement.name })
                    ? "axes.\(requirement.name)" : "fixed.\(requirement.name)"
                problems.append(
                    SpecError(
                        file: path, keyPath: keyPath,
                        message: "the cell `\(cell.label(axes: axisNames))` runs wrk with \(requirement.name) "
                            + "`\(cell[requirement.name])`, but \(requirement.why). Keep \(requirement.name) "
                            + "`\(requirement.value)` for wrk: add a filter such as "
                            + "{\"engine\": \"wrk\", \"\(requirement.name)\": \(cell[requirement.name].json)}, or "
                            + "remove `wrk` from `engines`."))
            }
        }
        return problems
    }

    /// When the spec lists `wrk` and `find` does not find it: the problem, naming how to install it; else nil.
    func missingReferenceTool(find: (String) -> String?) -> SpecError? {
        guard let index = engines.firstIndex(of: .wrk), WrkCell.locate(find: find) == nil else { return nil }
        return SpecError(
            file: path, keyPath: "engines[\(index)]",
            message: "lists `wrk`, but wrk is not installed (not found on PATH); \(WrkCell.installHint)")
    }
}
