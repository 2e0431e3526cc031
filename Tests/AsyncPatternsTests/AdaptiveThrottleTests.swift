import TestSupport
import Testing

@testable import AsyncPatterns

@Suite("Adaptive throttle")
struct AdaptiveThrottleTests {
    static let table: [(Int, Int, Double, Double)] = [
        (0, 0, 2.0, 0.0),
        (10, 0, 2.0, 10.0 / 11),
        (10, 5, 2.0, 0.0),
        (10, 4, 2.0, 2.0 / 11),
        (100, 10, 2.0, 80.0 / 101),
        (100, 10, 1.0, 90.0 / 101),
        (100, 60, 1.5, 10.0 / 101),
    ]

    @Test(arguments: table)
    func probabilityFormula(requests: Int, accepts: Int, k: Double, expected: Double) {
        let p = AdaptiveThrottleStateMachine.probability(requests: requests, accepts: accepts, k: k)
        #expect(abs(p - expected) < 1e-12)
    }

    @Test func rejectsWithTheSREProbabilityUnderAFixedSeed() {
        var machine = AdaptiveThrottleStateMachine(
            configuration: AdaptiveThrottleConfiguration(k: 2, window: .seconds(60), buckets: 60))
        // Build a history: 1000 requests, 250 accepted → p ≈ 500/1001.
        for index in 0..<1000 {
            let admitted = machine.admit(now: .zero, random: 0.999_999)
            #expect(admitted)
            if index % 4 == 0 { machine.recordAccept(now: .zero) }
        }
        var generator = SplitMix64(seed: 2024)
        var expected = 0.0
        var variance = 0.0
        var rejected = 0
        for _ in 0..<4000 {
            let p = machine.rejectionProbability(now: .seconds(1))
            expected += p
            variance += p * (1 - p)
            if !machine.admit(now: .seconds(1), random: SplitMix64.unitInterval(generator.next())) { rejected += 1 }
        }
        #expect(abs(Double(rejected) - expected) < 4 * variance.squareRoot())
        #expect(machine.rejected == rejected)
    }

    @Test func historySlidesOutOfTheWindow() {
        let clock = ManualClock()
        let throttle = AdaptiveThrottle(
            configuration: AdaptiveThrottleConfiguration(k: 2, window: .seconds(10), buckets: 10), seed: 1, clock: clock
        )
        for _ in 0..<50 { _ = throttle.tryAcquire() }
        #expect(throttle.rejectionProbability > 0.5)
        for _ in 0..<50 { throttle.record(.ok) }
        #expect(throttle.rejectionProbability == 0)
        for _ in 0..<200 { throttle.record(.http429) }  // not accepts
        #expect(throttle.rejectionProbability == 0)
        clock.advance(by: .seconds(10))
        #expect(throttle.rejectionProbability == 0)
        for _ in 0..<9 { _ = throttle.tryAcquire() }
        #expect(abs(throttle.rejectionProbability - 9.0 / 10) < 1e-12)
    }

    @Test func sameSeedSameDecisions() {
        func run() -> [Bool] {
            let throttle = AdaptiveThrottle(
                configuration: AdaptiveThrottleConfiguration(), seed: 77, clock: ManualClock())
            return (0..<500).map { _ in throttle.tryAcquire() }
        }
        let first = run()
        #expect(first == run())
        #expect(first.contains(false) && first.contains(true))
    }
}
