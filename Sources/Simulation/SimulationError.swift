/// Why a simulation could not run. Its description says what was wrong and how to fix it; `label` is a short
/// stable text for tables.
public struct SimulationError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case invalid(key: String, value: String, allowed: String)
        case unsupported(String)
    }

    private let code: Code

    /// A setting the simulation cannot use: `key` names it, `value` is what was given, `allowed` what is.
    public static func invalid(key: String, value: String, allowed: String) -> SimulationError {
        SimulationError(code: .invalid(key: key, value: value, allowed: allowed))
    }

    /// A feature the simulation does not model yet.
    public static func unsupported(_ feature: String) -> SimulationError {
        SimulationError(code: .unsupported(feature))
    }

    /// A short stable label: `invalid_setting` or `unsupported`.
    public var label: String {
        switch code {
        case .invalid: "invalid_setting"
        case .unsupported: "unsupported"
        }
    }

    public var description: String {
        switch code {
        case .invalid(let key, let value, let allowed):
            "simulation setting \(key) = \(value) is not allowed; use \(allowed)"
        case .unsupported(let feature):
            "the simulation does not model \(feature) yet; run this cell on a live engine, or drop \(feature)"
        }
    }
}
