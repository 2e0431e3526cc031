import Foundation
import HTTPEngines
import LabStore

/// The experiment specs in `experiments/`.
public enum Catalogue {
    /// Every `experiments/*.json`, in name order.
    /// - Throws: `LabError` when the folder is missing or empty.
    public static func defaultSpecPaths(folder: String = "experiments") throws -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            throw LabError("\(folder)/: no such folder. Run from the repository root, or name spec files.")
        }
        let specs = names.filter { $0.hasSuffix(".json") }.sorted().map { "\(folder)/\($0)" }
        if specs.isEmpty { throw LabError("\(folder)/ holds no *.json specs") }
        return specs
    }

    /// One line per spec: name, cells, requests and a duration estimate.
    /// - Throws: `SpecErrors` for invalid specs.
    public static func describe(specPaths: [String], quick: Bool) throws -> [String] {
        var lines: [String] = []
        var problems: [SpecError] = []
        var totalSeconds = 0.0
        for path in specPaths {
            do {
                let spec = try ExperimentSpec.load(path: path, quick: quick)
                let cells = spec.grid()
                let seconds = cells.reduce(0.0) { $0 + estimatedSeconds($1, spec: spec) }
                let requests = cells.reduce(0) {
                    $0 + spec.warmup + spec.requests(concurrency: $1.concurrency)
                }
                totalSeconds += seconds
                lines.append(
                    "\(spec.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(String(cells.count).leftPad(5)) cells  "
                        + "\(String(requests).leftPad(8)) requests  ~\(duration(seconds))  "
                        + spec.question)
            } catch {
                problems += error.errors
            }
        }
        if !problems.isEmpty { throw SpecErrors(errors: problems) }
        lines.append("total: ~\(duration(totalSeconds))")
        return lines
    }

    /// A rough estimate of a cell's duration: requests divided by the Little's-law rate, or by the open-loop
    /// rate (closed loop: at least `minMeasuredSeconds`), plus a fixed per-cell overhead; a `wrk` cell's run length,
    /// with its 1 s warm-up run when the spec has a warm-up.
    static func estimatedSeconds(_ cell: CellPlan, spec: ExperimentSpec) -> Double {
        if cell.engine == .sim { return 0.05 }
        if cell.engine == .wrk { return Double(spec.referenceSeconds) + (spec.warmup > 0 ? 1 : 0) + 0.3 }
        let requests = Double(spec.warmup + spec.requests(concurrency: cell.concurrency))
        let latency = max(cell[.latencyMs].number ?? 0, 0.1) / 1000
        let concurrency = Double(cell.concurrency)
        var rate = min(concurrency / latency, 8000)
        if cell[.load] != .string("closed") { rate = min(rate, cell[.rate].number ?? rate) }
        let seconds = requests / max(rate, 1)
        let closed = cell[.load] == .string("closed")
        return (closed ? max(seconds, spec.minMeasuredSeconds ?? 0) : seconds) + 0.3
    }

    static func duration(_ seconds: Double) -> String {
        seconds < 60
            ? "\(Int(seconds.rounded()))s" : "\(Int(seconds) / 60)m\(String(format: "%02d", Int(seconds) % 60))s"
    }
}

extension String {
    func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

/// Merges shard databases into `into`, checking every input before writing anything.
/// Returns the number of cells copied.
/// - Throws: `StoreError` naming the first unusable input or the output.
public func mergeDatabases(_ inputs: [String], into: String) throws -> Int {
    for input in inputs { _ = try LabStore.openForReading(path: input) }
    let store = try LabStore.openForWriting(path: into)
    return try inputs.reduce(0) { $0 + (try store.merge(from: $1)) }
}
