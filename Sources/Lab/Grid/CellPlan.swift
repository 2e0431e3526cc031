import AsyncPatterns
import HTTPEngines

/// One cell of an experiment's grid, ready to run: an engine, a full set of parameters and a repetition.
public struct CellPlan: Sendable, Hashable {
    /// The experiment's name.
    public var experiment: String
    /// The engine.
    public var engine: EngineKind
    /// Every parameter, defaults included, plus `engine`.
    public var parameters: [String: ParameterValue]
    /// Repetition index, from 0.
    public var repetition: Int
    /// Position in the full grid, from 0 (used by sharding).
    public var index: Int

    /// The parameters as canonical JSON: keys sorted, no spaces. Stored in `cells.params`.
    public var canonicalParameters: String {
        "{" + parameters.keys.sorted().map { "\(JSONString.quoted($0)):\(parameters[$0]!.json)" }.joined(separator: ",")
            + "}"
    }

    /// The stable cell id: 16 hex digits of SHA-256 over the experiment, the canonical parameters and the
    /// repetition. Re-running the same cell gives the same id, so its result is replaced, not duplicated.
    public var key: String {
        String(SHA256.hex("\(experiment)\n\(canonicalParameters)\n\(repetition)").prefix(16))
    }

    /// The cell's seed, from the master seed, the canonical parameters and the repetition only, so adding
    /// another axis value or cell never changes this one.
    public func seed(master: UInt64) -> UInt64 {
        StableHash.combine(master, StableHash.hash(canonicalParameters), UInt64(repetition))
    }

    /// A parameter's value (every known parameter has one).
    public subscript(_ name: String) -> ParameterValue {
        parameters[name] ?? Parameters.definitions[name]?.defaultValue ?? .string("")
    }

    /// The cell's concurrency (closed loop: workers; open loop: the in-flight cap).
    public var concurrency: Int { Int(self["concurrency"].number ?? 1) }

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
        for (name, definition) in Parameters.definitions { base[name] = definition.defaultValue }
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
                for repetition in 0..<repetitions {
                    let cell = CellPlan(
                        experiment: name, engine: engine, parameters: parameters, repetition: repetition,
                        index: cells.count)
                    if seen.insert(cell.key).inserted { cells.append(cell) }
                }
            }
        }
        return cells
    }

    /// The names of the axes, for labels and reports.
    public var axisNames: [String] { axes.map(\.name) }
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
