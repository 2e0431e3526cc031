import Foundation
import MockServer

extension ExperimentSpec {
    /// Parameters that feed the client's resilience configuration.
    private static let resilienceParameters = ["backoff", "maxAttempts", "baseMs", "capMs", "budget", "breaker"]
    /// Parameters that feed the mock server's configuration.
    private static let serverParameters = ["errorRate", "latencyMs", "jitter", "latencyModel"]

    /// Checks the cross-field rules (such as `baseMs` ≤ `capMs`, or a server configuration that its cell's
    /// parameters make invalid) on every cell of the grid, so that a sweep never fails at its first cell after the
    /// database was created. Each problem is reported once, with the first cell that shows it.
    func cellProblems() -> [SpecError] {
        var problems: [SpecError] = []
        var seen = Set<String>()
        func report(_ error: Error, cell: CellPlan, parameters: [String], section: String) {
            let message = "\(error)"
            guard seen.insert(message).inserted else { return }
            let keys = keyPaths(of: parameters) + [section]
            problems.append(
                SpecError(
                    file: path, keyPath: keys.joined(separator: ", "),
                    message: "the cell `\(cell.label(axes: axisNames))` is invalid: \(message). "
                        + "Change the values so that every combination of the grid is allowed, or add a filter."))
        }
        for cell in grid() {
            do {
                _ = try ResilienceSettings(cell: cell, baseJSON: resilienceJSON).configuration()
            } catch {
                report(error, cell: cell, parameters: Self.resilienceParameters, section: "resilience")
            }
            do {
                let json = cell.serverConfigurationJSON(specServerJSON: serverJSON, seed: 0)
                try MockServerConfiguration.decode(json: Data(json.utf8), source: "server").validate()
            } catch {
                report(error, cell: cell, parameters: Self.serverParameters, section: "server")
            }
        }
        return problems
    }

    /// Where the spec sets these parameters: `axes.NAME` or `fixed.NAME`.
    private func keyPaths(of parameters: [String]) -> [String] {
        parameters.compactMap { name in
            if axes.contains(where: { $0.name == name }) { return "axes.\(name)" }
            return fixed[name] != nil ? "fixed.\(name)" : nil
        }
    }
}
