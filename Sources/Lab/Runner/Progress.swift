import Foundation

/// Progress of a sweep on standard error: a redrawn line on a terminal, plain lines otherwise.
struct Progress {
    private let total: Int
    private let started = ContinuousClock.now
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var completed = 0

    init(total: Int) {
        self.total = total
    }

    /// Announces that cell `label` is starting.
    func starting(_ label: String) {
        let line = "[\(completed + 1)/\(total)] \(label)  \(eta())"
        if isTerminal {
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8))
        }
    }

    /// Reports that the current cell finished with a short summary.
    mutating func finished(_ label: String, summary: String) {
        completed += 1
        let line = "[\(completed)/\(total)] \(label): \(summary)"
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[2K" : "") + line + "\n").utf8))
    }

    /// Prints a note on its own line.
    func note(_ text: String) {
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[2K" : "") + text + "\n").utf8))
    }

    private func eta() -> String {
        guard completed > 0 else { return "" }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) / Double(completed) * Double(total - completed)
        return "ETA \(Int(seconds) / 60)m\(String(format: "%02d", Int(seconds) % 60))s"
    }
}
