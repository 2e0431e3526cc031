import HTTPEngines

/// What runs a cell's client: one of the project's engines; wrk, the reference HTTP load generator that runs
/// beside them (same server, same pinning) so every engine can be read as a share of what a lean C client gets; or
/// the simulation of the cell's clients and server in virtual time.
public enum CellEngine: Sendable, Hashable, CustomStringConvertible {
    /// One of the project's engines.
    case engine(EngineKind)
    /// wrk (https://github.com/wg/wrk), closed loop at the cell's concurrency; it stores figures, not samples.
    case wrk
    /// The discrete-event simulation (`Simulation`) of the cell's clients and the mock server in virtual time, with
    /// the same parameters, policy objects and server seed as the live cells; its sample times are virtual.
    case sim

    /// The name in specs, `cells.engine` and reports.
    public var rawValue: String {
        switch self {
        case .engine(let kind): kind.rawValue
        case .wrk: "wrk"
        case .sim: "sim"
        }
    }

    /// The engine named `rawValue`, or nil.
    public init?(rawValue: String) {
        if rawValue == "wrk" {
            self = .wrk
        } else if rawValue == "sim" {
            self = .sim
        } else if let kind = EngineKind(rawValue: rawValue) {
            self = .engine(kind)
        } else {
            return nil
        }
    }

    /// Every name a spec may list: the project's engines, then `wrk` and `sim`.
    public static var allCases: [CellEngine] { EngineKind.allCases.map(CellEngine.engine) + [.wrk, .sim] }

    /// Whether the cell's client runs on this machine against a server (an engine or wrk), not in virtual time.
    public var isLive: Bool { self != .sim }

    /// The project's engine, or nil for `wrk` and `sim`.
    public var kind: EngineKind? {
        if case .engine(let kind) = self { return kind }
        return nil
    }

    public var description: String { rawValue }

    /// The sync engine.
    public static let sync = CellEngine.engine(.sync)
    /// The threaded engine.
    public static let threaded = CellEngine.engine(.threaded)
    /// The async engine.
    public static let async = CellEngine.engine(.async)
    /// The async engine over AsyncHTTPClient.
    public static let asyncAHC = CellEngine.engine(.asyncAHC)
    /// The async engine over libcurl multi.
    public static let asyncCurl = CellEngine.engine(.asyncCurl)
}
