import AsyncPatterns
import Foundation

/// Order statistics, the bootstrap and rank tests used by the report. All of them are deterministic.
public enum Statistics {
    /// The median of `values`; the mean of the two middle values for an even count; NaN when empty.
    public static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// The median of `values`, sorting them in place (no allocation); NaN when empty.
    static func medianInPlace(_ values: inout [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        if values.count <= 16 {
            // Insertion sort: repetitions are few, and this beats the generic sort by far.
            for i in 1..<values.count {
                let value = values[i]
                var j = i - 1
                while j >= 0, values[j] > value {
                    values[j + 1] = values[j]
                    j -= 1
                }
                values[j + 1] = value
            }
        } else {
            values.sort()
        }
        let middle = values.count / 2
        return values.count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2
    }

    /// The `q` quantile (0...1) of sorted values, with linear interpolation between order statistics (R type 7).
    public static func quantile(sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }

    /// The median of `values` with a percentile-bootstrap 95% confidence interval.
    /// - Parameters:
    ///   - values: one value per repetition.
    ///   - seed: seeds the resampling; derive it from the cells' ids so output is deterministic.
    ///   - resamples: the number of bootstrap resamples.
    public static func bootstrapMedian(_ values: [Double], seed: UInt64, resamples: Int = 2000) -> Estimate {
        let clean = values.filter(\.isFinite)
        guard !clean.isEmpty else { return Estimate(median: .nan, low: .nan, high: .nan, samples: values) }
        let center = median(clean)
        guard clean.count > 1, resamples > 0 else {
            return Estimate(median: center, low: center, high: center, samples: values)
        }
        if clean.count < Estimate.minimumForInterval {
            return Estimate(
                median: center, low: clean.min()!, high: clean.max()!, samples: values, rangeOf: clean.count)
        }
        var generator = SplitMix64(seed: seed)
        var medians: [Double] = []
        medians.reserveCapacity(resamples)
        var draw = [Double](repeating: 0, count: clean.count)
        for _ in 0..<resamples {
            for i in 0..<clean.count {
                draw[i] = clean[Int(generator.next() % UInt64(clean.count))]
            }
            medians.append(medianInPlace(&draw))
        }
        medians.sort()
        return Estimate(
            median: center, low: quantile(sorted: medians, 0.025), high: quantile(sorted: medians, 0.975),
            samples: values)
    }

    /// The ratio of the medians of `numerator` and `denominator`, with a 95% bootstrap interval that resamples
    /// both groups independently.
    public static func bootstrapRatio(
        _ numerator: [Double], _ denominator: [Double], seed: UInt64, resamples: Int = 2000
    ) -> Estimate {
        let top = numerator.filter(\.isFinite)
        let bottom = denominator.filter(\.isFinite)
        guard !top.isEmpty, !bottom.isEmpty else { return Estimate(median: .nan, low: .nan, high: .nan, samples: []) }
        let center = median(top) / median(bottom)
        guard top.count > 1 || bottom.count > 1, resamples > 0 else {
            return Estimate(median: center, low: center, high: center, samples: [center])
        }
        if min(top.count, bottom.count) < Estimate.minimumForInterval {
            // Too few runs for an interval: the extreme ratios the runs allow.
            return Estimate(
                median: center, low: top.min()! / bottom.max()!, high: top.max()! / bottom.min()!, samples: [center],
                rangeOf: min(top.count, bottom.count))
        }
        var generator = SplitMix64(seed: seed)
        var ratios: [Double] = []
        ratios.reserveCapacity(resamples)
        var drawTop = [Double](repeating: 0, count: top.count)
        var drawBottom = [Double](repeating: 0, count: bottom.count)
        for _ in 0..<resamples {
            for i in 0..<top.count { drawTop[i] = top[Int(generator.next() % UInt64(top.count))] }
            for i in 0..<bottom.count { drawBottom[i] = bottom[Int(generator.next() % UInt64(bottom.count))] }
            ratios.append(medianInPlace(&drawTop) / medianInPlace(&drawBottom))
        }
        ratios.sort()
        return Estimate(
            median: center, low: quantile(sorted: ratios, 0.025), high: quantile(sorted: ratios, 0.975),
            samples: [center])
    }

    /// The two-sided p-value of the Mann-Whitney U test of `a` against `b`.
    ///
    /// Uses the exact distribution of U when there are no ties and both groups are small (n·m ≤ 400), and
    /// the normal approximation with tie and continuity corrections otherwise. Returns 1 when a group is empty.
    public static func mannWhitneyP(_ a: [Double], _ b: [Double]) -> Double {
        let n = a.count
        let m = b.count
        guard n > 0, m > 0 else { return 1 }
        // Rank the pooled values, averaging the ranks of ties.
        var pooled = a.map { ($0, 0) } + b.map { ($0, 1) }
        pooled.sort { $0.0 < $1.0 }
        var ranks = [Double](repeating: 0, count: pooled.count)
        var tieTerm = 0.0
        var hasTies = false
        var i = 0
        while i < pooled.count {
            var j = i
            while j + 1 < pooled.count, pooled[j + 1].0 == pooled[i].0 { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j { ranks[k] = rank }
            let t = Double(j - i + 1)
            if t > 1 {
                hasTies = true
                tieTerm += t * t * t - t
            }
            i = j + 1
        }
        var rankSumA = 0.0
        for (index, entry) in pooled.enumerated() where entry.1 == 0 { rankSumA += ranks[index] }
        let uA = rankSumA - Double(n * (n + 1)) / 2
        let u = Swift.min(uA, Double(n * m) - uA)
        if !hasTies && n * m <= 400 {
            // Exact: count the arrangements with U <= u, by dynamic programming over (n, m).
            let counts = exactUDistribution(n: n, m: m)
            let total = counts.reduce(0, +)
            var tail = 0.0
            for value in 0...Int(u.rounded(.down)) where value < counts.count { tail += counts[value] }
            return Swift.min(1, 2 * tail / total)
        }
        let mean = Double(n * m) / 2
        let size = Double(n + m)
        let variance = Double(n * m) / 12 * ((size + 1) - tieTerm / (size * (size - 1)))
        guard variance > 0 else { return 1 }
        let z = (abs(uA - mean) - 0.5) / variance.squareRoot()
        return Swift.min(1, 2 * (1 - normalCDF(Swift.max(0, z))))
    }

    /// The smallest two-sided p-value the Mann-Whitney U test can give for groups of n and m values:
    /// 2 / C(n + m, n), capped at 1.
    public static func smallestPossibleP(_ n: Int, _ m: Int) -> Double {
        guard n > 0, m > 0 else { return 1 }
        var combinations = 1.0
        for i in 0..<min(n, m) { combinations = combinations * Double(n + m - i) / Double(i + 1) }
        return min(1, 2 / combinations)
    }

    /// The number of orderings of n and m items giving each value of U, indexed by U.
    static func exactUDistribution(n: Int, m: Int) -> [Double] {
        // f(n, m, u) = f(n-1, m, u-m) + f(n, m-1, u)
        var table = [[[Double]]](repeating: [[Double]](repeating: [], count: m + 1), count: n + 1)
        for i in 0...n {
            for j in 0...m {
                var row = [Double](repeating: 0, count: i * j + 1)
                if i == 0 || j == 0 {
                    row[0] = 1
                } else {
                    let left = table[i - 1][j]
                    let down = table[i][j - 1]
                    for u in 0...(i * j) {
                        var value = 0.0
                        if u - j >= 0, u - j < left.count { value += left[u - j] }
                        if u < down.count { value += down[u] }
                        row[u] = value
                    }
                }
                table[i][j] = row
            }
        }
        return table[n][m]
    }

    /// The standard normal cumulative distribution function.
    static func normalCDF(_ x: Double) -> Double {
        0.5 * erfc(-x / 2.0.squareRoot())
    }
}
