import Foundation

/// Fixed, locale-independent number formats, so the same data always gives the same bytes.
package enum Format {
    /// `value` with exactly `decimals` decimals; "n/a" when not finite.
    package static func fixed(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "n/a" }
        let text = String(format: "%.\(decimals)f", value)
        return text == "-0" || text.hasPrefix("-0.") && Double(text) == 0 ? String(text.dropFirst()) : text
    }

    /// About three significant digits without an exponent: 0.123, 1.23, 12.3, 123, 1234.
    static func significant(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        let magnitude = abs(value)
        if magnitude >= 100 || magnitude == 0 { return fixed(value, 0) }
        if magnitude >= 10 { return fixed(value, 1) }
        if magnitude >= 1 { return fixed(value, 2) }
        if magnitude >= 0.01 { return fixed(value, 3) }
        return fixed(value, 4)
    }

    /// A count, or a median of counts: whole when whole or from 10 up, otherwise about three significant digits.
    static func count(_ value: Double) -> String {
        abs(value) >= 10 || value == value.rounded() ? fixed(value, 0) : significant(value)
    }

    /// Requests per second: whole numbers from 100 up, otherwise about three significant digits.
    static func rate(_ value: Double) -> String { significant(value) }

    /// Nanoseconds as milliseconds with about three significant digits.
    static func ms(_ nanoseconds: Double) -> String { significant(nanoseconds / 1e6) }

    /// A fraction as a percentage with one decimal: 0.1234 → "12.3%".
    static func percent(_ fraction: Double) -> String {
        guard fraction.isFinite else { return "n/a" }
        return fixed(fraction * 100, fraction * 100 < 10 && fraction > 0 ? 2 : 1) + "%"
    }

    /// An interval's coverage as a percentage with one decimal: 0.9375 → "93.8%".
    static func coverage(_ fraction: Double) -> String {
        guard fraction.isFinite else { return "n/a" }
        return fixed(fraction * 100, 1) + "%"
    }

    /// A p-value with three decimals, or "p < 0.001" where three decimals would print 0.000.
    static func pValue(_ p: Double) -> String {
        p < 0.0005 ? "p < 0.001" : "p = " + fixed(p, 3)
    }

    /// What the median interval of n repetitions is and how often such an interval holds the true median:
    /// "the range of the runs, coverage 93.8%" or "the 2nd to the 8th smallest run, coverage 96.1%".
    static func medianInterval(repetitions n: Int) -> String {
        let (k, coverage) = Statistics.medianOrderStatistic(n: n)
        let which = k == 1 ? "the range of the runs" : "the \(ordinal(k)) to the \(ordinal(n + 1 - k)) smallest run"
        return which + ", coverage " + Self.coverage(coverage)
    }

    /// An English ordinal: 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st.
    static func ordinal(_ value: Int) -> String {
        let suffix: String
        switch (value % 10, value % 100) {
        case (_, 11...13): suffix = "th"
        case (1, _): suffix = "st"
        case (2, _): suffix = "nd"
        case (3, _): suffix = "rd"
        default: suffix = "th"
        }
        return "\(value)\(suffix)"
    }

    /// A ratio with two decimals and a multiplication sign: "9.80×".
    static func times(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        if value > 0 && value < 0.1 { return significant(value) + "×" }
        return fixed(value, 2) + "×"
    }

    /// Bytes as MiB with one decimal.
    static func mebibytes(_ bytes: Double) -> String {
        guard bytes.isFinite else { return "n/a" }
        return fixed(bytes / 1_048_576, 1)
    }

    /// A median and its interval: "123 [120, 126]".
    static func estimate(_ estimate: Estimate, _ format: (Double) -> String) -> String {
        if estimate.low == estimate.high || !estimate.low.isFinite {
            return format(estimate.median)
        }
        if let runs = estimate.rangeOf {
            return "\(format(estimate.median)) (n = \(runs), range \(format(estimate.low))–\(format(estimate.high)))"
        }
        return "\(format(estimate.median)) [\(format(estimate.low)), \(format(estimate.high))]"
    }

    /// A value for a gnuplot data file: up to 9 significant digits, "NaN" when not finite.
    static func data(_ value: Double) -> String {
        guard value.isFinite else { return "NaN" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.9g", value)
    }
}
