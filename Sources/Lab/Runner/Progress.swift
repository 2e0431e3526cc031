import Foundation

/// Progress of a sweep on standard error: a redrawn line on a terminal, plain lines otherwise. The ETA weighs the
/// cells by their estimated durations (`Catalogue.estimatedSeconds`) and scales the estimate still to run by how
/// long the finished cells really took against theirs, so a sweep of short cells then long ones is not promised
/// early; it is printed on a terminal's live line and on every finished line, so plain logs have it too.
struct Progress {
    private let total: Int
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var completed = 0
    /// Estimated seconds of the cells not finished yet.
    private var remainingEstimate: Double
    /// Estimated and actual seconds of the finished cells.
    private var finishedEstimate = 0.0
    private var finishedActual = 0.0
    private var cellStarted = ContinuousClock.now

    /// - Parameter estimates: the estimated seconds of every cell to run.
    init(estimates: [Double]) {
        total = estimates.count
        remainingEstimate = estimates.reduce(0, +)
    }

    /// Announces that cell `label` is starting.
    mutating func starting(_ label: String) {
        cellStarted = .now
        if isTerminal {
            let line = "[\(completed + 1)/\(total)] \(label)\(eta())"
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8))
        }
    }

    /// Reports that the current cell, whose estimated duration was `estimate` seconds, finished with a summary.
    mutating func finished(_ label: String, summary: String, estimate: Double) {
        completed += 1
        let elapsed = ContinuousClock.now - cellStarted
        finishedActual += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        finishedEstimate += estimate
        remainingEstimate = max(0, remainingEstimate - estimate)
        let line = "[\(completed)/\(total)] \(label): \(summary)\(eta())"
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[2K" : "") + line + "\n").utf8))
    }

    /// Prints a note on its own line.
    func note(_ text: String) {
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[2K" : "") + text + "\n").utf8))
    }

    /// "  (ETA 12m05s)": the remaining estimate scaled by actual over estimated time so far; empty at the end.
    private func eta() -> String {
        guard completed < total else { return "" }
        let scale = finishedEstimate > 0 ? finishedActual / finishedEstimate : 1
        return "  (ETA \(Catalogue.duration(remainingEstimate * scale)))"
    }
}
