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

    @Test func medianIntervalOfFiveRunsIsTheirRange() {
        // No pair of order statistics of 5 runs reaches 95%: the range covers 1 − 2 / 2^5 = 93.75%.
        let estimate = Statistics.medianInterval([104, 98, 101, 103, 99])
        #expect(estimate.median == 101)
        #expect(estimate.low == 98 && estimate.high == 104)
        #expect(estimate.coverage == 0.9375)
        #expect(estimate.rangeOf == nil)
    }

    @Test func medianIntervalOfSevenRunsIsTheirRange() {
        // k = 2 would cover only 1 − 2 · 8 / 128 = 87.5%, so k = 1: 1 − 2 / 128 ≈ 98.4%.
        let values = [100.0, 104, 98, 101, 103, 99, 102]
        let estimate = Statistics.medianInterval(values)
        #expect(estimate.median == 101)
        #expect(estimate.low == 98 && estimate.high == 104)
        #expect(abs(estimate.coverage! - 0.984375) < 1e-12)
        #expect(estimate.samples == values)
    }

    @Test func medianIntervalOfNineRunsDropsTheExtremes() {
        // k = 2: 1 − 2 · 10 / 512 ≈ 96.1%; k = 3 would cover only about 82%.
        let estimate = Statistics.medianInterval([9, 1, 8, 2, 7, 3, 6, 4, 5])
        #expect(estimate.median == 5)
        #expect(estimate.low == 2 && estimate.high == 8)
        #expect(abs(estimate.coverage! - 0.9609375) < 1e-12)
    }

    @Test func medianIntervalOfTenRunsIsTheSecondToTheNinth() {
        // k = 2: 1 − 2 · 11 / 1024 ≈ 97.9%; k = 3 would cover only about 89%.
        let estimate = Statistics.medianInterval((1...10).reversed().map(Double.init))
        #expect(estimate.median == 5.5)
        #expect(estimate.low == 2 && estimate.high == 9)
        #expect(abs(estimate.coverage! - (1 - 22.0 / 1024)) < 1e-12)
    }

    @Test func medianIntervalCoverageIsAtLeastTheTargetOrTheRange() {
        for n in 5...200 {
            let (k, coverage) = Statistics.medianOrderStatistic(n: n)
            #expect(k >= 1 && k <= (n + 1) / 2)
            #expect(coverage >= Statistics.medianIntervalTarget || k == 1, "n = \(n)")
            // The next order statistic inwards falls short.
            #expect(Statistics.medianCoverage(n: n, k: k + 1) < Statistics.medianIntervalTarget, "n = \(n)")
        }
        #expect(Statistics.medianOrderStatistic(n: 6).coverage == 1 - 2.0 / 64)
        // Beyond 2^−1074, through log-gamma: still the narrowest interval at 95%.
        let many = Statistics.medianOrderStatistic(n: 2000)
        #expect(many.coverage >= 0.95 && many.coverage < 0.96)
        #expect(Statistics.medianCoverage(n: 2000, k: many.k + 1) < 0.95)
    }

    @Test func medianIntervalIsDescribedWithItsCoverage() {
        #expect(Format.medianInterval(repetitions: 5) == "the range of the runs, coverage 93.8%")
        #expect(Format.medianInterval(repetitions: 7) == "the range of the runs, coverage 98.4%")
        #expect(Format.medianInterval(repetitions: 9) == "the 2nd to the 8th smallest run, coverage 96.1%")
        #expect(Format.medianInterval(repetitions: 23) == "the 7th to the 17th smallest run, coverage 96.5%")
        #expect(
            [1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].map(Format.ordinal) == [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th",
            ])
    }

    @Test("a p-value too small for three decimals reads p < 0.001, not p = 0.000")
    func pValuesNeverPrintAsZero() {
        #expect(Format.pValue(0.0079) == "p = 0.008")
        #expect(Format.pValue(0.0005) == "p = 0.001")
        #expect(Format.pValue(0.00049) == "p < 0.001")
        #expect(Format.pValue(1e-12) == "p < 0.001")
    }

    @Test("significant means p < 0.05 and a ratio interval beyond 1×, in speed-ups as in findings")
    func significanceNeedsTheTestAndTheInterval() {
        func comparison(_ p: Double, _ low: Double, _ high: Double) -> Comparison {
            Comparison(
                ratio: Estimate(median: (low + high) / 2, low: low, high: high, samples: []), pValue: p,
                counts: [7, 7], baselineConcurrency: 1, baselineThroughput: 1)
        }
        #expect(comparison(0.01, 1.1, 1.3).significant)
        #expect(comparison(0.01, 0.7, 0.9).significant)
        #expect(!comparison(0.01, 0.9, 1.2).significant)
        #expect(!comparison(0.2, 1.1, 1.3).significant)
    }

    @Test func medianIntervalBelowTheMinimumIsTheRange() {
        let few = Statistics.medianInterval([3, 1, 2, .nan])
        #expect(few.low == 1 && few.high == 3 && few.median == 2)
        #expect(few.rangeOf == 3 && few.coverage == nil)
        let single = Statistics.medianInterval([5])
        #expect(single.low == 5 && single.high == 5 && single.coverage == nil)
        #expect(Statistics.medianInterval([]).median.isNaN)
        // Values that are not finite are left out before the order statistics are taken.
        let five = Statistics.medianInterval([.infinity, 5, 1, 4, 2, 3])
        #expect(five.low == 1 && five.high == 5 && five.coverage == 0.9375)
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

    @Test func mannWhitneyExactFiveAgainstFive() {
        // Fully separated: 2 / C(10, 5) = 2 / 252, the smallest p 5 runs a side can give.
        let separated = Statistics.mannWhitneyP([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
        #expect(abs(separated - 2.0 / 252) < 1e-12)
        // Ties within each group leave the separation whole: still exactly 2 / 252.
        let tiedWithin = Statistics.mannWhitneyP([1, 1, 2, 3, 4], [5, 6, 7, 8, 8])
        #expect(abs(tiedWithin - 2.0 / 252) < 1e-12)
        // Two values, five runs each: the normal approximation with its tie correction gave about 0.004, below the
        // smallest p that 5 runs a side can give.
        let twoValues = Statistics.mannWhitneyP([1, 1, 1, 1, 1], [2, 2, 2, 2, 2])
        #expect(abs(twoValues - 2.0 / 252) < 1e-12)
        // A tie across the groups: the exact test can only give more, never less, than 2 / 252.
        let tiedAcross = Statistics.mannWhitneyP([1, 2, 3, 4, 5], [5, 6, 7, 8, 9])
        #expect(tiedAcross >= 2.0 / 252 - 1e-12)
        #expect(tiedAcross < 0.05)
        #expect(tiedAcross == Statistics.mannWhitneyP([5, 6, 7, 8, 9], [1, 2, 3, 4, 5]))
    }

    @Test func mannWhitneyExactWithTiesSmallSamples() {
        // a = [1, 2, 2], b = [2, 3, 4]: doubled mid-ranks 2, 6, 6 | 6, 10, 12, rank sum 7 against a mean of 10.5.
        // Of the C(6, 3) = 20 splits, 3 have rank sum 7 and 3 have 14: p = 6 / 20.
        let p = Statistics.mannWhitneyP([1, 2, 2], [2, 3, 4])
        #expect(abs(p - 0.3) < 1e-12)
        #expect(Statistics.mannWhitneyP([1, 1, 1], [1, 1, 1]) == 1)
        // Listing splits directly agrees.
        #expect(
            abs(Statistics.exactTiedP(doubledRanks: [2, 6, 6, 6, 10, 12], groupSize: 3, observedSum: 14) - 0.3) < 1e-12)
        #expect(Statistics.exactTiedP(doubledRanks: [2, 4], groupSize: 0, observedSum: 0) == 1)
    }

    @Test func mannWhitneyLargeSamplesWithTiesUseTheNormalApproximation() {
        // C(60, 30) splits is far beyond the exact limit.
        #expect(Statistics.binomial(60, 30) > Double(Statistics.exactSplitLimit))
        let a = (0..<30).map { Double($0 % 7) }
        let b = (0..<30).map { Double($0 % 7 + 5) }
        let large = Statistics.mannWhitneyP(a, b)
        #expect(large < 0.001)
        // The same figure the normal approximation with tie and continuity corrections gives.
        let ranks = Statistics.ranks(a + b)
        let uA = ranks.prefix(30).reduce(0, +) - 30 * 31 / 2
        var tieTerm = 0.0
        for value in Set(a + b) {
            let t = Double((a + b).filter { $0 == value }.count)
            tieTerm += t * t * t - t
        }
        let variance = 900.0 / 12 * (61 - tieTerm / (60 * 59))
        let z = (abs(uA - 450) - 0.5) / variance.squareRoot()
        #expect(abs(large - 2 * (1 - Statistics.normalCDF(z))) < 1e-12)
    }

    @Test func binomialCoefficients() {
        #expect(Statistics.binomial(10, 5) == 252)
        #expect(Statistics.binomial(20, 10) == 184_756)
        #expect(Statistics.binomial(3, 4) == 0)
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
