import AsyncPatterns
import Histogram
import Testing

@testable import Reporting

@Suite("Statistics")
struct StatisticsTests {
    @Test func medianAndQuantiles() {
        #expect(Statistics.median([3, 1, 2]) == 2)
        #expect(Statistics.median([4, 1, 3, 2]) == 2.5)
        #expect(Statistics.median([]).isNaN)
        #expect(Statistics.quantile(sorted: [1, 2, 3, 4, 5], 0.25) == 2)
        #expect(Statistics.quantile(sorted: [0, 10], 0.975) == 9.75)
    }

    @Test func spearmanRanksWithTies() {
        #expect(Statistics.ranks([10, 30, 20, 20]) == [1, 4, 2.5, 2.5])
        #expect(Statistics.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1)
        #expect(Statistics.spearman([1, 2, 3, 4], [9, 7, 5, 1]) == -1)
        // Ranks, not values: a monotone but curved relation is still perfect.
        #expect(Statistics.spearman([1, 2, 3, 4, 5], [1, 4, 9, 16, 1000]) == 1)
        #expect(abs(Statistics.spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) - 0.8) < 1e-12)
        #expect(Statistics.spearman([1, 2], [2, 1]).isNaN)
        #expect(Statistics.spearman([1, 2, 3], [5, 5, 5]).isNaN)
    }

    @Test func histogramPercentilesMatchKnownData() {
        var histogram = LatencyHistogram.latency()
        // 1 ms ... 1000 ms, one value each.
        for ms in 1...1000 { histogram.record(UInt64(ms) * 1_000_000) }
        let p = ModelBuilder.percentiles(histogram)
        #expect(abs(p.p50 / 1e6 - 500) <= 0.5)
        #expect(abs(p.p90 / 1e6 - 900) <= 1)
        #expect(abs(p.p99 / 1e6 - 990) <= 1)
        #expect(abs(p.p999 / 1e6 - 999) <= 1)
        #expect(abs(p.max / 1e6 - 1000) <= 1)
    }

    @Test func onePassPercentilesEqualValueAtPercentile() {
        var histogram = LatencyHistogram.latency()
        var generator = SplitMix64(seed: 11)
        for _ in 0..<5_000 { histogram.record(1_000 + generator.next() % 3_000_000_000) }
        let percentiles: [Double] = [0, 1, 25, 50, 75, 90, 99, 99.5, 99.9, 99.99, 99.999, 100]
        #expect(histogram.values(atPercentiles: percentiles) == percentiles.map { histogram.valueAtPercentile($0) })
        #expect(abs(histogram.summary(atPercentiles: [50]).mean - histogram.mean) <= histogram.mean * 1e-12)
        #expect(LatencyHistogram.latency().values(atPercentiles: [50]) == [0])
    }

    @Test func bootstrapIsDeterministicAndBracketsTheMedian() {
        let values = [100.0, 104, 98, 101, 103, 99, 102]
        let a = Statistics.bootstrapMedian(values, seed: 7)
        let b = Statistics.bootstrapMedian(values, seed: 7)
        #expect(a == b)
        #expect(a.median == 101)
        #expect(a.low <= a.median && a.median <= a.high)
        #expect(a.low >= 98 && a.high <= 104)
        let other = Statistics.bootstrapMedian(values, seed: 8)
        #expect(other.median == a.median)
        let single = Statistics.bootstrapMedian([5], seed: 1)
        #expect(single.low == 5 && single.high == 5)
    }

    @Test func bootstrapRatioCentersOnTheRatioOfMedians() {
        let ratio = Statistics.bootstrapRatio([200, 210, 190], [100, 105, 95], seed: 3)
        #expect(ratio.median == 2)
        #expect(ratio.low <= 2 && ratio.high >= 2)
        #expect(ratio.low > 1.7 && ratio.high < 2.3)
    }

    @Test func mannWhitneyExactSmallSamples() {
        // Complete separation of 3 vs 3: exact two-sided p = 2 / C(6, 3) = 0.1, so "~" with 3 repetitions.
        #expect(abs(Statistics.mannWhitneyP([1, 2, 3], [4, 5, 6]) - 0.1) < 1e-12)
        // 10 vs 10 separated: 2 / C(20, 10).
        let p = Statistics.mannWhitneyP((1...10).map(Double.init), (11...20).map(Double.init))
        #expect(abs(p - 2.0 / 184_756) < 1e-12)
        // Interleaved samples: no evidence of a difference.
        #expect(Statistics.mannWhitneyP([1, 3, 5, 7], [2, 4, 6, 8]) > 0.5)
        // Symmetric in its arguments.
        #expect(
            Statistics.mannWhitneyP([1, 4, 9], [2, 3, 10, 11]) == Statistics.mannWhitneyP([2, 3, 10, 11], [1, 4, 9]))
    }

    @Test func mannWhitneyNormalApproximationWithTies() {
        // U = 0.5 for a = [1, 2, 2], b = [2, 3, 4]; with ties the normal approximation applies.
        let p = Statistics.mannWhitneyP([1, 2, 2], [2, 3, 4])
        #expect(p > 0.05 && p < 0.2)
        #expect(Statistics.mannWhitneyP([1, 1, 1], [1, 1, 1]) == 1)
        let large = Statistics.mannWhitneyP((0..<30).map { Double($0 % 7) }, (0..<30).map { Double($0 % 7 + 5) })
        #expect(large < 0.001)
    }

    @Test func smallestPossiblePTellsWhenSignificanceIsReachable() {
        #expect(abs(Statistics.smallestPossibleP(3, 3) - 0.1) < 1e-12)
        #expect(abs(Statistics.smallestPossibleP(4, 4) - 2.0 / 70) < 1e-12)
        #expect(Statistics.smallestPossibleP(1, 1) == 1)
    }

    @Test func exactDistributionSumsToBinomial() {
        let counts = Statistics.exactUDistribution(n: 4, m: 5)
        #expect(counts.reduce(0, +) == 126)  // C(9, 4)
        #expect(counts.count == 21)
        #expect(counts.first == 1 && counts.last == 1)
    }
}
