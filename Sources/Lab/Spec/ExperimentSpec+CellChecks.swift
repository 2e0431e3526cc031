import Foundation
import LabStore
import MockServer

extension ExperimentSpec {
    /// Parameters that feed the client's resilience configuration.
    private static let resilienceParameters = [
        "backoff", "maxAttempts", "baseMs", "capMs", "budget", "breaker", "throttle", "limiter", "acquireTimeoutMs",
    ]
    /// Parameters that feed the mock server's configuration.
    private static let serverParameters = CellPlan.serverConfigurationParameters

    /// Checks the cross-field rules (such as `baseMs` ≤ `capMs`, or a server configuration that its cell's
    /// parameters make invalid) on every cell of the grid, so that a sweep never fails at its first cell after the
    /// database was created. Each problem is reported once, with the first cell that shows it. Then the settings
    /// that no cell would use (`unusedSettingProblems()`).
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
                _ = try ResilienceSettings(cell: cell, base: resilience).configuration()
            } catch {
                report(error, cell: cell, parameters: Self.resilienceParameters, section: "resilience")
            }
            do {
                // Decoded from the JSON the server is sent, so that what it reads back is checked too.
                let json = cell.serverConfiguration(base: server, seed: 0).jsonString()
                _ = try MockServerConfiguration.decode(json: Data(json.utf8), source: "server")
            } catch {
                report(error, cell: cell, parameters: Self.serverParameters, section: "server")
            }
            if cell.engine.isLive,
                cell[.networkMs] != ParameterName.networkMs.defaultValue
                    || cell[.networkSdMs] != ParameterName.networkSdMs.defaultValue
            {
                report(
                    SimulatedNetworkOnly(), cell: cell, parameters: ["networkMs", "networkSdMs"], section: "engines")
            } else if cell.engine == .sim {
                do {
                    _ = try SimCell(cell: cell, spec: self).simulate(requests: 0)
                } catch {
                    report(error, cell: cell, parameters: ["path", "load", "rate", "timeoutMs"], section: "engines")
                }
            }
        }
        return problems + unusedSettingProblems() + referenceProblems()
    }

    /// Settings the spec gives that no cell would run with, because the cell parameters win: a
    /// `resilience.throttle` or `resilience.limiter` object whose parameter is `off` in every cell, an
    /// `acquireTimeoutMs` parameter without a limiter, or an acquire timeout set both as a parameter and in
    /// `resilience.limiter`.
    func unusedSettingProblems() -> [SpecError] {
        let cells = grid()
        var problems: [SpecError] = []
        let given = [
            ("throttle", "k:<K>", resilience.throttle != nil),
            ("limiter", "limit:<permits>", resilience.limiter != nil),
        ]
        for (name, on, isGiven) in given where isGiven {
            guard cells.allSatisfy({ $0[name] == .string("off") }) else { continue }
            problems.append(
                SpecError(
                    file: path, keyPath: "resilience.\(name)",
                    message: "is never used: the parameter `\(name)` is `off` in every cell, and the cell parameter "
                        + "wins. Add `\(name)` (`\(on)`) to `fixed` or `axes`, or remove `resilience.\(name)`."))
        }
        let timeoutPaths = keyPaths(of: ["acquireTimeoutMs"])
        if !timeoutPaths.isEmpty {
            if cells.allSatisfy({ $0["limiter"] == .string("off") }) {
                problems.append(
                    SpecError(
                        file: path, keyPath: timeoutPaths.joined(separator: ", "),
                        message: "is never used: the parameter `limiter` is `off` in every cell. Add `limiter` "
                            + "(`limit:<permits>`) to `fixed` or `axes`, or remove `acquireTimeoutMs`."))
            }
            if resilience.limiter?.acquireTimeoutMs != nil {
                problems.append(
                    SpecError(
                        file: path,
                        keyPath: (timeoutPaths + ["resilience.limiter.acquireTimeoutMs"]).joined(
                            separator: ", "),
                        message: "the acquire timeout is set twice; set it as the parameter `acquireTimeoutMs` "
                            + "or in `resilience.limiter`, not both"))
            }
        }
        return problems
    }

    /// A live cell with a simulated network.
    private struct SimulatedNetworkOnly: Error, CustomStringConvertible {
        var description: String {
            "`networkMs` and `networkSdMs` set the sim engine's network, but live engines run over loopback and "
                + "take 0 only; leave the live cells out with a filter such as {\"engine\": \"async\", "
                + "\"networkMs\": {\"min\": 0.001}}"
        }
    }

    /// Where the spec sets these parameters: `axes.NAME` or `fixed.NAME`.
    private func keyPaths(of parameters: [String]) -> [String] {
        parameters.compactMap { name in
            if axes.contains(where: { $0.name == name }) { return "axes.\(name)" }
            return fixed[name] != nil ? "fixed.\(name)" : nil
        }
    }
}
