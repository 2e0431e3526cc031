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

    /// The coverage the median interval aims for: the interval is the narrowest pair of order statistics whose
    /// coverage is at least this, or the range of the runs when even that falls short.
    public static let medianIntervalTarget = 0.95

    /// The median of `values` with a distribution-free confidence interval from order statistics.
    ///
    /// For n finite values sorted x(1) ≤ … ≤ x(n), the interval [x(k), x(n+1−k)] holds the true median with
    /// probability 1 − 2·P(Bin(n, ½) ≤ k − 1) for any continuous distribution (`medianCoverage(n:k:)`). This takes
    /// the largest k whose coverage is at least `medianIntervalTarget`; when even k = 1, the range of the runs,
    /// falls short (n = 5 gives 93.75%), it takes k = 1. The coverage is recorded in `Estimate.coverage`. With
    /// fewer than `Estimate.minimumForInterval` values it gives the range of the runs and sets `rangeOf` instead.
    /// It neither resamples nor depends on a seed.
    /// - Parameter values: one value per repetition; values that are not finite are left out.
    public static func medianInterval(_ values: [Double]) -> Estimate {
        let clean = values.filter(\.isFinite).sorted()
        guard !clean.isEmpty else { return Estimate(median: .nan, low: .nan, high: .nan, samples: values) }
        let center = median(clean)
        guard clean.count > 1 else {
            return Estimate(median: center, low: center, high: center, samples: values)
        }
        if clean.count < Estimate.minimumForInterval {
            return Estimate(
                median: center, low: clean.first!, high: clean.last!, samples: values, rangeOf: clean.count)
        }
        let (k, coverage) = medianOrderStatistic(n: clean.count)
        return Estimate(
            median: center, low: clean[k - 1], high: clean[clean.count - k], samples: values, coverage: coverage)
    }

    /// The order statistic k of the median interval [x(k), x(n+1−k)] for n values, and its coverage: the largest
    /// k ≥ 1 whose coverage is at least `medianIntervalTarget`, else 1.
    static func medianOrderStatistic(n: Int) -> (k: Int, coverage: Double) {
        var k = 1
        var coverage = medianCoverage(n: n, k: 1)
        // Coverage falls as k grows; k stays at most (n + 1) / 2 so that x(k) ≤ x(n+1−k).
        while k + 1 <= (n + 1) / 2 {
            let next = medianCoverage(n: n, k: k + 1)
            guard next >= medianIntervalTarget - 1e-12 else { break }
            k += 1
            coverage = next
        }
        return (k, coverage)
    }

    /// The probability that [x(k), x(n+1−k)] of n independent draws holds the median of a continuous
    /// distribution: 1 − 2·P(Bin(n, ½) ≤ k − 1).
    static func medianCoverage(n: Int, k: Int) -> Double {
        guard n > 0, k >= 1 else { return .nan }
        var tail = 0.0
        if n <= 1000 {
            // C(n, i) · 2^−n term by term: exact for the repetition counts a run has.
            var term = pow(0.5, Double(n))
            for i in 0..<Swift.min(k, n + 1) {
                tail += term
                term = term * Double(n - i) / Double(i + 1)
            }
        } else {
            // Through log-gamma, since 2^−n underflows.
            let logTotal = Double(n) * log(2.0)
            for i in 0..<Swift.min(k, n + 1) {
                tail += exp(lgamma(Double(n + 1)) - lgamma(Double(i + 1)) - lgamma(Double(n - i + 1)) - logTotal)
            }
        }
        return Swift.max(0, 1 - 2 * tail)
    }

    /// The ratio of the medians of `numerator` and `denominator`, with a 95% percentile-bootstrap interval that
    /// resamples both groups independently. "95%" is the bootstrap's nominal level, not a guaranteed coverage: with
    /// 5 to 7 runs a side the bootstrap of a median can only pick among a few order statistics.
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
        return .bootstrap(center, sortedDraws: ratios)
    }

    /// The two-sided p-value of the Mann-Whitney U test of `a` against `b`.
    ///
    /// Exact where the groups are small: without ties and with n·m ≤ 400, from the exact distribution of U;
    /// otherwise, when there are at most `exactSplitLimit` ways (C(n + m, n)) to split the pooled values into
    /// groups of n and m, by the exact permutation test on mid-ranks (`exactTiedP`), which holds with ties. Only
    /// beyond that, the normal approximation with tie and continuity corrections, which with ties and few runs
    /// can give less than the smallest p the splits allow. Returns 1 when a group is empty.
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
        if binomial(n + m, n) <= Double(exactSplitLimit) {
            // Doubled mid-ranks are whole numbers.
            var doubled = [Int](repeating: 0, count: pooled.count)
            var doubledA: [Int] = []
            for (index, entry) in pooled.enumerated() {
                doubled[index] = Int((2 * ranks[index]).rounded())
                if entry.1 == 0 { doubledA.append(doubled[index]) }
            }
            return exactTiedP(doubledRanks: doubled, groupSize: n, observedSum: doubledA.reduce(0, +))
        }
        let mean = Double(n * m) / 2
        let size = Double(n + m)
        let variance = Double(n * m) / 12 * ((size + 1) - tieTerm / (size * (size - 1)))
        guard variance > 0 else { return 1 }
        let z = (abs(uA - mean) - 0.5) / variance.squareRoot()
        return Swift.min(1, 2 * (1 - normalCDF(Swift.max(0, z))))
    }

    /// The largest number of splits of the pooled values, C(n + m, n), for which `mannWhitneyP` lists them all for
    /// the exact permutation p-value; beyond it, the normal approximation.
    static let exactSplitLimit = 200_000

    /// The exact two-sided permutation p-value of the rank-sum statistic with ties: the share of the C(N, n) ways
    /// to choose n of the N pooled values as the first group whose rank sum lies at least as far from its mean
    /// n(N + 1)/2 as the observed one does (the same distance as |U − nm/2|).
    ///
    /// Lists every split, so the caller keeps C(N, n) small (`exactSplitLimit`). Ranks are doubled mid-ranks, whole
    /// numbers, so equal distances compare exactly, with no tolerance needed for ties of floating-point sums.
    /// - Parameters:
    ///   - doubledRanks: twice the mid-rank of every pooled value.
    ///   - groupSize: n, the size of the first group.
    ///   - observedSum: the sum of the first group's doubled ranks.
    static func exactTiedP(doubledRanks: [Int], groupSize: Int, observedSum: Int) -> Double {
        let size = doubledRanks.count
        guard groupSize > 0, groupSize < size else { return 1 }
        // Choosing the smaller group gives the same splits and the same distances, in fewer steps.
        let n = Swift.min(groupSize, size - groupSize)
        // Twice the mean rank sum of a group of n: n(N + 1); doubled sums keep it whole.
        let center = n * (size + 1)
        let observed = abs(observedSum - groupSize * (size + 1))
        var total = 0
        var extreme = 0
        func visit(from start: Int, left: Int, sum: Int) {
            if left == 0 {
                total += 1
                if abs(sum - center) >= observed { extreme += 1 }
                return
            }
            guard size - start >= left else { return }
            for index in start...(size - left) {
                visit(from: index + 1, left: left - 1, sum: sum + doubledRanks[index])
            }
        }
        visit(from: 0, left: n, sum: 0)
        return total > 0 ? Swift.min(1, Double(extreme) / Double(total)) : 1
    }

    /// C(n, k) as a Double.
    static func binomial(_ n: Int, _ k: Int) -> Double {
        guard k >= 0, k <= n else { return 0 }
        var combinations = 1.0
        for i in 0..<Swift.min(k, n - k) { combinations = combinations * Double(n - i) / Double(i + 1) }
        return combinations.rounded()
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
