import AsyncPatterns
import HTTPEngines
import LabStore

/// One cell of an experiment's grid, ready to run: an engine, a full set of parameters and a repetition.
public struct CellPlan: Sendable, Hashable {
    /// The experiment's name.
    public var experiment: String
    /// The engine (or `wrk`).
    public var engine: CellEngine
    /// Every parameter, defaults included, plus `engine` (among `others`): what `cells.params` stores.
    public var parameters: CellParameters
    /// Repetition index, from 0.
    public var repetition: Int
    /// Position in the full grid, from 0 (used by sharding).
    public var index: Int

    /// The parameters as canonical JSON: keys sorted, no spaces (`CellParameters.canonicalJSON`). Stored in
    /// `cells.params`.
    public var canonicalParameters: String { parameters.canonicalJSON }

    /// The stable cell id: 16 hex digits of SHA-256 over the experiment, the canonical parameters and the
    /// repetition. Re-running the same cell gives the same id, so its result is replaced, not duplicated.
    public var key: String {
        String(SHA256.hex("\(experiment)\n\(canonicalParameters)\n\(repetition)").prefix(16))
    }

    /// The cell's seed (the client's stream: backoff jitter, arrivals), from the master seed, the canonical
    /// parameters and the repetition only, so adding another axis value or cell never changes this one.
    public func seed(master: UInt64) -> UInt64 {
        StableHash.combine(master, StableHash.hash(canonicalParameters), UInt64(repetition))
    }

    /// The parameters that describe the server and the workload, the one list the others derive from: the mock
    /// server's configuration (`serverConfigurationParameters`) and the endpoint every request asks for (`path`).
    public static let serverParameters = ["errorRate", "latencyMs", "jitter", "latencyModel", "path"]

    /// The server parameters that go into the mock server's configuration (`serverConfiguration(base:seed:)`): all but
    /// `path`, which the client asks for.
    public static let serverConfigurationParameters = serverParameters.filter { $0 != "path" }

    /// The parameters that, with the master seed and the repetition and nothing else, seed the server's stream
    /// (fault decisions, latency draws): `serverParameters`. Concurrency is left out, so the sync baseline (always at
    /// concurrency 1) meets the same faults as the engines it is compared with; fault decisions are keyed by request
    /// id and attempt, not by arrival order, so concurrency cannot change them.
    public static let serverStreamParameters = Set(serverParameters)

    /// The seed of the server's stream: from the master seed, `serverStreamParameters` and the repetition only,
    /// never the engine or a client-side treatment (backoff, attempts, budget, breaker, timeouts, pooling,
    /// recorder settings), so within one repetition every engine and every policy meets the same failures for the
    /// same request id and attempt (common random numbers, a paired design).
    public func serverSeed(master: UInt64) -> UInt64 {
        let server = parameters.values.filter { Self.serverStreamParameters.contains($0.key.rawValue) }
        let canonical = CellParameters(values: server).canonicalJSON
        return StableHash.combine(master, StableHash.hash("server\n" + canonical), UInt64(repetition))
    }

    /// A parameter's value: the cell's own, or the parameter's default (every parameter has one).
    public subscript(_ name: ParameterName) -> ParameterValue {
        parameters[name] ?? name.defaultValue
    }

    /// A parameter's value by the name a spec spells (an axis name); a name that is no parameter reads as "".
    public subscript(_ name: String) -> ParameterValue {
        ParameterName(rawValue: name).map { self[$0] } ?? .string("")
    }

    /// The cell's concurrency (closed loop: workers; open loop: the in-flight cap).
    public var concurrency: Int { Int(self[.concurrency].number ?? 1) }

    /// A short description for progress lines, e.g. `async concurrency=8 errorRate=0.1 rep=0`.
    public func label(axes: [String]) -> String {
        ([engine.rawValue] + axes.filter { $0 != "engine" }.map { "\($0)=\(self[$0])" } + ["rep=\(repetition)"])
            .joined(separator: " ")
    }
}

extension ExperimentSpec {
    /// The full grid: engines × the cross product of the axes × repetitions, in a stable order, without
    /// filtered combinations. The sync engine is sequential, so its cells run at concurrency 1.
    public func grid() -> [CellPlan] {
        var base: [String: ParameterValue] = [:]
        for name in ParameterName.allCases { base[name.rawValue] = name.defaultValue }
        base.merge(fixed) { _, new in new }

        var points: [[String: ParameterValue]] = [base]
        for axis in axes {
            points = points.flatMap { point in
                axis.values.map { value in
                    var next = point
                    next[axis.name] = value
                    return next
                }
            }
        }
        var cells: [CellPlan] = []
        var seen = Set<String>()
        for engine in engines {
            for point in points {
                var parameters = point
                parameters["engine"] = .string(engine.rawValue)
                // The sync engine is sequential: it always runs at concurrency 1 (duplicates are dropped below).
                if engine == .sync { parameters["concurrency"] = .int(1) }
                if filters.contains(where: { $0.matches(parameters) }) { continue }
                for name in ParameterName.allCases where !name.isStoredAtDefault {
                    if let value = parameters[name.rawValue], name.typed(value) == name.defaultValue {
                        parameters[name.rawValue] = nil
                    }
                }
                let typed = CellParameters(parameters)
                for repetition in 0..<(engine == .sim ? simRepetitions : repetitions) {
                    let cell = CellPlan(
                        experiment: name, engine: engine, parameters: typed, repetition: repetition, index: cells.count)
                    if seen.insert(cell.key).inserted { cells.append(cell) }
                }
            }
        }
        return cells
    }

    /// The names of the axes, for labels and reports.
    public var axisNames: [String] { axes.map(\.name) }
}

extension Array where Element == CellPlan {
    /// The order a sweep runs these cells in: round-robin over repetitions (repetition 0 of every grid point, then
    /// repetition 1, ...), and within a repetition the points in an order shuffled from the master seed. Drift on the
    /// machine (another tenant, thermal or frequency changes) then spreads over every engine and treatment instead
    /// of landing on the cells that happened to run back to back. A point's place depends only on its own
    /// parameters, so resumed and sharded sweeps keep the same relative order.
    ///
    /// With `blockAxis`, the grid is first cut into blocks, one per value of that axis, run one after another in a
    /// shuffled order, and the round-robin runs within each block. The treatments compared at one value then share
    /// the same few minutes of the machine, so drift slower than a block's length neither biases one of them nor
    /// widens a point's interval; it can only move whole blocks against each other.
    public func interleaved(master: UInt64, blockAxis: String? = nil) -> [CellPlan] {
        let ranked = map { cell in
            let block = blockAxis.map { StableHash.combine(master, StableHash.hash("block\n" + cell[$0].json)) }
            return (cell, block ?? 0, StableHash.combine(master, StableHash.hash("order\n" + cell.canonicalParameters)))
        }
        return ranked.sorted { a, b in
            if a.1 != b.1 { return a.1 < b.1 }
            if a.0.repetition != b.0.repetition { return a.0.repetition < b.0.repetition }
            return a.2 != b.2 ? a.2 < b.2 : a.0.index < b.0.index
        }.map(\.0)
    }
}

/// A deterministic slice of a grid: shard `index` of `count` (1-based), by grid position.
public struct Shard: Sendable, Hashable, CustomStringConvertible {
    /// Which shard, from 1.
    public var index: Int
    /// How many shards.
    public var count: Int

    /// Parses `i/n` with 1 <= i <= n.
    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (1...n).contains(i) else {
            return nil
        }
        index = i
        count = n
    }

    /// Whether the cell at grid position `position` belongs to this shard.
    public func contains(_ position: Int) -> Bool { position % count == index - 1 }

    public var description: String { "\(index)/\(count)" }
}
