import AsyncPatterns
import HTTPEngines
import LabStore
import MockServer

/// A validated experiment spec: what to sweep, how long, and how the server behaves.
/// Built only by `ExperimentSpec.load(path:quick:)`, which checks everything before anything runs.
public struct ExperimentSpec: Sendable {
    /// The experiment's name: letters, digits, `-` and `_`.
    public var name: String
    /// The question the experiment answers.
    public var question: String
    /// Engines to compare, in spec order (`wrk`, the reference load generator, among them when listed).
    public var engines: [CellEngine]
    /// Sweep axes: parameter name → values, in value order given.
    public var axes: [(name: String, values: [ParameterValue])]
    /// Fixed parameter values (defaults for everything not set are added by the grid).
    public var fixed: [String: ParameterValue]
    /// Combinations to leave out of the grid.
    public var filters: [GridFilter]
    /// Logical requests measured per cell, at least `requestsPerWorker` × concurrency.
    public var requests: Int
    /// Measured logical requests per unit of concurrency, so that high-concurrency cells run long enough.
    public var requestsPerWorker: Int
    /// The base resilience settings (the spec's `resilience` object, decoded and validated) that cell parameters
    /// override; `.none` by default.
    public var resilience: ResilienceConfiguration
    /// The spec's `resilience` object as JSON text with sorted keys, `{}` by default.
    public var resilienceJSON: String
    /// Logical warm-up requests per cell, recorded but excluded from statistics.
    public var warmup: Int
    /// Closed loop: the shortest measured phase of a cell, seconds; measured requests keep starting after `requests`
    /// until it has passed. Also the length of a `wrk` cell (rounded up to whole seconds, at least 1). Nil (unset):
    /// cells run by count, and `wrk` for 1 s. Like `requests`, it is no cell parameter, so it changes no cell id or
    /// seed.
    public var minMeasuredSeconds: Double?
    /// Repetitions of every grid point.
    public var repetitions: Int
    /// Repetitions of every grid point of the `sim` engine: the simulation costs little and a seed gives one
    /// result, so it can run the many runs per point simulation studies use (the AWS study: 100). Default
    /// `repetitions`.
    public var simRepetitions: Int
    /// An axis whose value groups the grid into blocks that run one after another (`blockBy`), or nil for one
    /// block. Within a block repetitions run round-robin over its cells, so the treatments compared at one value
    /// (the engines at one concurrency, say) share the same minutes of the machine; see `interleaved`.
    public var blockAxis: String?
    /// The master seed.
    public var seed: UInt64
    /// The mock server's settings from the spec's `server` object (fault kinds, schedules, capacity...), decoded and
    /// validated; each cell lays its seed, latency and error rate over them. `.default` by default.
    public var server: MockServerConfiguration
    /// Whether the experiment injects faults, and so needs the mock server (it cannot run against `--target`).
    public var needsMockServer: Bool
    /// The spec file's path as given.
    public var path: String
    /// The spec file's full text.
    public var text: String
}

extension ExperimentSpec {
    /// How long a `wrk` cell runs: `minMeasuredSeconds` rounded up to whole seconds (wrk's `-d` takes whole
    /// seconds), at least 1.
    public var referenceSeconds: Int {
        max(1, Int((minMeasuredSeconds ?? 1).rounded(.up)))
    }

    /// Measured logical requests of a cell at `concurrency`.
    public func requests(concurrency: Int) -> Int {
        max(requests, concurrency * requestsPerWorker)
    }
}

/// Leaves out the grid points where every condition holds.
public struct GridFilter: Sendable, Hashable {
    /// A condition on one parameter.
    public enum Condition: Sendable, Hashable {
        /// The value is one of these.
        case oneOf([ParameterValue])
        /// The value lies within these bounds (inclusive; nil = unbounded).
        case range(min: Double?, max: Double?)
    }

    /// Parameter name (or `engine`) → condition.
    public var conditions: [String: Condition]

    /// Whether `parameters` (which include `engine`) match every condition.
    public func matches(_ parameters: [String: ParameterValue]) -> Bool {
        conditions.allSatisfy { name, condition in
            guard let value = parameters[name] else { return false }
            switch condition {
            case .oneOf(let values): return values.contains(value)
            case .range(let low, let high):
                guard let number = value.number else { return false }
                return (low.map { number >= $0 } ?? true) && (high.map { number <= $0 } ?? true)
            }
        }
    }
}
