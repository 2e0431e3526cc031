import Foundation
import Reporting

/// The report's speed figure for `make perf`: `report.seconds_1m_samples`.
public enum ReportBenchmark {
    /// One measured figure, in the shape of `results/perf.json`'s entries.
    public struct Figure: Sendable {
        /// `report.seconds_1m_samples`.
        public var name: String
        /// Seconds for a full render.
        public var value: Double
        /// Samples in the database.
        public var samples: Int
        /// The target, `<= 10`.
        public var target: String
        /// Whether the target was met.
        public var pass: Bool

        /// The figure as one JSON object: name, value, unit, target, pass, samples.
        public var json: String {
            "{\"name\": \"\(name)\", \"value\": \(Format.fixed(value, 3)), \"unit\": \"s\", "
                + "\"target\": \"\(target)\", \"pass\": \(pass), \"samples\": \(samples)}"
        }
    }

    /// Synthesizes a 1M-sample database at `options.databasePath` when it is missing, then times one full render
    /// into `options.outputDirectory` with wall-clock time.
    /// - Throws: as `renderReport`, and `StoreError` when the database cannot be written.
    public static func run(_ options: ReportOptions) throws -> Figure {
        if !FileManager.default.fileExists(atPath: options.databasePath) {
            try SyntheticLab.write(path: options.databasePath, .sized(samples: 1_000_000))
        }
        let clock = ContinuousClock()
        let start = clock.now
        let summary = try renderReport(options)
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Figure(
            name: "report.seconds_1m_samples", value: seconds, samples: summary.samplesRead, target: "<= 10",
            pass: seconds <= 10 && summary.samplesRead >= 1_000_000)
    }
}

extension SyntheticLab.Configuration {
    /// A three-engine, four-concurrency, three-repetition sweep with about `samples` samples in all.
    public static func sized(samples: Int) -> SyntheticLab.Configuration {
        let cells = 3 * (1 + 2 * 4)  // sync at concurrency 1 only; threaded and async at four concurrencies
        let perCell = max(1, Int((Double(samples) / Double(cells) / 1.1).rounded(.up)))
        return SyntheticLab.Configuration(
            name: "synthetic", question: "How fast is the report on a large database?",
            concurrencies: [1, 4, 16, 64], requests: perCell, warmup: perCell / 10, events: false)
    }
}
