import Foundation
import LabStore

/// Reads the figures out of what `wrk --latency` prints: the requests completed, `Requests/sec:`, the 50% and 99%
/// lines of the latency distribution, `Non-2xx or 3xx responses:` and `Socket errors:`.
enum WrkOutput {
    /// The parsed figures.
    /// - Throws: `LabError` naming what is missing when the text lacks the rate, the request count or a percentile.
    static func parse(_ text: String) throws(LabError) -> ReferenceFigures {
        var requests: Int64?
        var rate: Double?
        var percentiles: [String: Double] = [:]
        var errors: Int64 = 0
        for rawLine in text.split(separator: "\n") {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if line.hasPrefix("Requests/sec:"), words.count >= 2 {
                rate = Double(words[1])
            } else if words.count >= 3, words[1] == "requests", words[2] == "in", let count = Int64(words[0]) {
                requests = count
            } else if words.count == 2, words[0].hasSuffix("%"), let share = Double(words[0].dropLast()),
                let ns = nanoseconds(words[1])
            {
                percentiles[String(format: "%g", share)] = ns
            } else if line.hasPrefix("Non-2xx or 3xx responses:"), let count = words.last.flatMap({ Int64($0) }) {
                errors += count
            } else if line.hasPrefix("Socket errors:") {
                // `Socket errors: connect 0, read 0, write 0, timeout 0`
                for word in words.dropFirst(2) {
                    if let count = Int64(word.trimmingCharacters(in: CharacterSet(charactersIn: ","))) {
                        errors += count
                    }
                }
            }
        }
        var missing: [String] = []
        if rate == nil { missing.append("the `Requests/sec:` line") }
        if requests == nil { missing.append("the `N requests in T` line") }
        if percentiles["50"] == nil || percentiles["99"] == nil {
            missing.append("the 50% and 99% lines of `--latency`")
        }
        guard let rate, let requests, let p50 = percentiles["50"], let p99 = percentiles["99"] else {
            throw LabError(
                "wrk's output lacks \(missing.joined(separator: ", ")); it ended with: \(String(text.suffix(300)))")
        }
        return ReferenceFigures(requests: requests, requestsPerSecond: rate, p50Ns: p50, p99Ns: p99, errors: errors)
    }

    /// A wrk time such as `48.00us`, `1.03ms`, `2.00s` or `1.50m`, in ns.
    static func nanoseconds(_ text: String) -> Double? {
        let units: [(suffix: String, ns: Double)] = [("us", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        for unit in units where text.hasSuffix(unit.suffix) {
            guard let value = Double(text.dropLast(unit.suffix.count)), value.isFinite else { return nil }
            return value * unit.ns
        }
        return nil
    }
}
