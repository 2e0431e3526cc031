import AsyncPatterns
import Foundation

/// One performance figure: a measured value against its target.
public struct PerfFigure: Sendable, Codable, Hashable {
    /// Stable name tracked from run to run, e.g. `engine.sync.c1.efficiency`.
    public var name: String
    /// The measured value.
    public var value: Double
    /// Its unit, e.g. `ratio`, `req/s`, `ns`.
    public var unit: String
    /// The target, e.g. `>= 0.9`.
    public var target: String
    /// Whether the value meets the target.
    public var pass: Bool
    /// The command that reproduces the figure.
    public var command: String
    /// Absolute figures shown beside a ratio, e.g. `sync 98.1 req/s; bound 99.0 req/s`.
    public var detail: String

    /// Builds a figure, judging `pass` from a target of the form `>= x` or `<= x`.
    public init(name: String, value: Double, unit: String, target: String, command: String, detail: String = "") {
        self.name = name
        self.value = value
        self.unit = unit
        self.target = target
        self.command = command
        self.detail = detail
        let parts = target.split(separator: " ")
        if parts.count == 2, let bound = Double(parts[1]) {
            pass = parts[0] == ">=" ? value >= bound : value <= bound
        } else {
            pass = false
        }
    }
}

/// A `SampleSink` that keeps samples in memory, for benchmarks and tests.
final class CollectingSink: SampleSink, Sendable {
    private let samples = LockedBox<[AttemptSample]>([])

    func record(_ sample: AttemptSample) {
        samples.withLock { $0.append(sample) }
    }

    /// Every sample recorded so far.
    var all: [AttemptSample] { samples.withLock { $0 } }
}
