import Testing

@testable import AsyncPatterns

/// Draws `count` delays (ms) for zero-based retry `retry`, each from its own seed, as the retry policy does.
func drawsMs(
    _ strategy: some BackoffStrategy, retry: Int, previous: Duration? = nil, count: Int = 20_000, seed: UInt64 = 7
)
    -> [Double]
{
    (0..<count).map { index in
        var generator = SplitMix64(seed: seed &+ UInt64(index) &* 0x9E37_79B9)
        let delay = strategy.delay(retry: retry, previous: previous, using: &generator)
        return Double(delay.wholeNanoseconds) / 1e6
    }
}

func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

@Suite("Backoff strategies")
struct BackoffStrategyTests {
    let base = Duration.milliseconds(10)
    let cap = Duration.seconds(1)

    @Test func noneIsAlwaysZero() {
        #expect(drawsMs(.immediate, retry: 3, count: 100).allSatisfy { $0 == 0 })
        #expect(ImmediateBackoff().name == "none")
    }

    @Test(arguments: [(0, 10.0), (1, 20.0), (2, 40.0), (6, 640.0), (7, 1000.0), (60, 1000.0), (5000, 1000.0)])
    func exponentialIsMinCapBaseTimesTwoToTheN(retry: Int, expectedMs: Double) {
        let strategy = ExponentialBackoff(base: base, cap: cap)
        #expect(drawsMs(strategy, retry: retry, count: 3) == [expectedMs, expectedMs, expectedMs])
    }

    @Test(arguments: [0, 2, 5, 20])
    func fullJitterIsUniformBetweenZeroAndT(retry: Int) {
        let t = min(1000, 10 * Double(1 << min(retry, 30)))
        let values = drawsMs(FullJitterBackoff(base: base, cap: cap), retry: retry)
        #expect(values.allSatisfy { $0 >= 0 && $0 < t })
        #expect(abs(mean(values) - t / 2) < t * 0.01)
        #expect(values.min()! < t * 0.001)
        #expect(values.max()! > t * 0.999)
    }

    @Test(arguments: [0, 2, 5, 20])
    func equalJitterIsHalfTPlusUniformHalfT(retry: Int) {
        let t = min(1000, 10 * Double(1 << min(retry, 30)))
        let values = drawsMs(EqualJitterBackoff(base: base, cap: cap), retry: retry)
        #expect(values.allSatisfy { $0 >= t / 2 && $0 < t })
        #expect(abs(mean(values) - t * 0.75) < t * 0.01)
        #expect(values.min()! < t / 2 * 1.001)
        #expect(values.max()! > t * 0.999)
    }

    @Test(arguments: [10.0, 40.0, 500.0])
    func decorrelatedJitterIsUniformBetweenBaseAndThreePrevious(previousMs: Double) {
        let previous = Duration.milliseconds(double: previousMs)
        let high = min(1000, previousMs * 3)
        let values = drawsMs(DecorrelatedJitterBackoff(base: base, cap: cap), retry: 1, previous: previous)
        #expect(values.allSatisfy { $0 >= 10 && $0 <= high })
        if previousMs * 3 <= 1000 {
            // Uniform on [base, 3·previous): mean halfway.
            #expect(abs(mean(values) - (10 + high) / 2) < high * 0.01)
        } else {
            // min(cap, U(10, 1500)): P(capped) = 500/1490, mean = E[min(U, 1000)].
            let capped = Double(values.filter { $0 == 1000 }.count) / Double(values.count)
            #expect(abs(capped - 500.0 / 1490) < 0.02)
            let expectedMean = (990.0 / 1490) * 505 + (500.0 / 1490) * 1000
            #expect(abs(mean(values) - expectedMean) < 10)
        }
    }

    @Test func decorrelatedFirstRetryUsesBaseAsPrevious() {
        let values = drawsMs(DecorrelatedJitterBackoff(base: base, cap: cap), retry: 0, previous: nil)
        #expect(values.allSatisfy { $0 >= 10 && $0 < 30 })
        #expect(abs(mean(values) - 20) < 0.2)
    }

    @Test(arguments: RetryConfigBackoffs.all)
    func policySequencesAreFixedBySeedAndBounded(_ backoff: RetryConfigBackoffs) {
        let policy = ResilienceConfiguration.Retry(maxAttempts: 10, backoff: backoff.kind, baseMs: 10, capMs: 1000)
            .makePolicy()
        let first = (0..<9).map { policy.backoffDelay(retry: $0, seed: 99) }
        let again = (0..<9).map { policy.backoffDelay(retry: $0, seed: 99) }
        let other = (0..<9).map { policy.backoffDelay(retry: $0, seed: 100) }
        #expect(first == again)
        if backoff.kind == .none || backoff.kind == .exponential {
            #expect(first == other)
        } else {
            #expect(first != other)
        }
        #expect(first.allSatisfy { $0 >= .zero && $0 <= .seconds(1) })
        if backoff.kind == .decorrelated {
            // Each delay is within [base, min(cap, 3·previous)], the chain replayed from base.
            var previous = Duration.milliseconds(10)
            for delay in first {
                #expect(delay >= .milliseconds(10) && delay <= min(.seconds(1), previous * 3))
                previous = delay
            }
        }
    }
}

/// The backoff kinds, as test arguments.
struct RetryConfigBackoffs: Sendable, CustomTestStringConvertible {
    var kind: ResilienceConfiguration.Retry.Backoff
    static let all = ResilienceConfiguration.Retry.Backoff.allCases.map(RetryConfigBackoffs.init)
    var testDescription: String { kind.rawValue }
}
