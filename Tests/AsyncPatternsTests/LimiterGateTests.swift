import Foundation
import Synchronization
import TestSupport
import Testing

@testable import AsyncPatterns

@Suite("Limiter gate", .timeLimit(.minutes(1)))
struct LimiterGateTests {
    @Test func enterAndLeaveHoldAndReturnPermits() async {
        let limiter = ConcurrencyLimiter(limit: 2, clock: ManualClock())
        let gate = LimiterGate(limiter: limiter, acquireTimeout: .seconds(1))
        #expect(await gate.enter())
        #expect(gate.enterBlocking())
        #expect(limiter.metrics.current == 2)
        gate.leave()
        gate.leave()
        let metrics = limiter.metrics
        #expect(metrics == .init(limit: 2, current: 0, peak: 2, waiting: 0, waits: 0, timeouts: 0, acquired: 2))
    }

    @Test func enterTimesOutOnTheLimitersClock() async {
        let clock = ManualClock()
        let limiter = ConcurrencyLimiter(limit: 1, clock: clock)
        let gate = LimiterGate(limiter: limiter, acquireTimeout: .milliseconds(50))
        #expect(await gate.enter())
        async let second = gate.enter()
        await eventually { limiter.metrics.waiting == 1 && clock.sleeperCount == 1 }
        clock.advance(by: .milliseconds(50))
        #expect(await second == false)
        let metrics = limiter.metrics
        #expect(metrics.timeouts == 1 && metrics.waits == 1 && metrics.current == 1 && metrics.acquired == 1)
        gate.leave()
        #expect(limiter.metrics.current == 0)
    }

    @Test func enterWithoutATimeoutWaitsForALeave() async {
        let limiter = ConcurrencyLimiter(limit: 1, clock: ManualClock())
        let gate = LimiterGate(limiter: limiter, acquireTimeout: nil)
        #expect(await gate.enter())
        async let second = gate.enter()
        await eventually { limiter.metrics.waiting == 1 }
        gate.leave()
        #expect(await second)
        gate.leave()
        #expect(limiter.metrics.timeouts == 0 && limiter.metrics.current == 0 && limiter.metrics.peak == 1)
    }

    @Test func blockingEnterTimesOutAndCountsIt() {
        let limiter = ConcurrencyLimiter(limit: 1, clock: ManualClock())
        let gate = LimiterGate(limiter: limiter, acquireTimeout: .milliseconds(1))
        #expect(gate.enterBlocking())
        #expect(!gate.enterBlocking())
        #expect(limiter.metrics.timeouts == 1 && limiter.metrics.waits == 1 && limiter.metrics.current == 1)
        gate.leave()
        #expect(gate.enterBlocking())
        gate.leave()
        #expect(limiter.metrics.current == 0 && limiter.metrics.timeouts == 1)
    }

    @Test func blockingEnterWaitsForALeave() async {
        let limiter = ConcurrencyLimiter(limit: 1, clock: ManualClock())
        let gate = LimiterGate(limiter: limiter, acquireTimeout: nil)
        #expect(gate.enterBlocking())
        let entered = Atomic<Bool>(false)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            entered.store(gate.enterBlocking(), ordering: .sequentiallyConsistent)
            gate.leave()
            done.signal()
        }
        thread.start()
        await eventually { limiter.metrics.waiting == 1 }
        gate.leave()
        done.wait()
        let enteredAfterWaiting = entered.load(ordering: .sequentiallyConsistent)
        #expect(enteredAfterWaiting)
        let metrics = limiter.metrics
        #expect(metrics.current == 0 && metrics.waits == 1 && metrics.timeouts == 0 && metrics.acquired == 2)
    }

    @Test func policiesHaveNoGateUnlessALimiterIsConfigured() throws {
        #expect(SingleAttemptPolicy().gate == nil)
        let plain = try ResiliencePolicy(
            configuration: .init(retry: .init()), seed: 1, clock: ManualClock())
        #expect(plain.gate == nil && plain.limiter == nil)
        let snapshot = plain.snapshot()
        #expect(snapshot.limiterLimit == nil && snapshot.limiterPeak == 0)
        #expect(snapshot.limiterWaits == 0 && snapshot.limiterTimeouts == 0)
    }

    @Test func theResiliencePolicysGateIsItsLimiterWithTheAcquireTimeout() async throws {
        let clock = ManualClock()
        let policy = try ResiliencePolicy(
            configuration: .init(limiter: .init(limit: 1, acquireTimeoutMs: 20)), seed: 1, clock: clock)
        let gate = try #require(policy.gate as? LimiterGate<ManualClock>)
        #expect(gate.acquireTimeout == .milliseconds(20))
        #expect(gate.limiter === policy.limiter)
        #expect(await gate.enter())
        async let second = gate.enter()
        await eventually { clock.sleeperCount == 1 }
        clock.advance(by: .milliseconds(20))
        #expect(await second == false)
        gate.leave()
        let snapshot = policy.snapshot()
        #expect(snapshot.limiterLimit == 1 && snapshot.limiterPeak == 1)
        #expect(snapshot.limiterWaits == 1 && snapshot.limiterTimeouts == 1)
    }

    @Test func aLimiterTimeoutEndsTheRequestAndTheBreakerIgnoresIt() throws {
        let configuration = ResilienceConfiguration(
            retry: .init(maxAttempts: 5, backoff: .none),
            breaker: .init(minimumCalls: 1, failureRate: nil, failureCount: 1),
            limiter: .init(limit: 1, acquireTimeoutMs: 0))
        let policy = try ResiliencePolicy(configuration: configuration, seed: 7, clock: ManualClock())
        for id in Int64(0)..<20 {
            let result = drive(policy, requestID: id) { _, _ in
                AttemptOutcome(errorClass: .limiterTimeout, status: 0, duration: .zero)
            }
            #expect(result == RequestResult(final: .limiterTimeout, samples: 1, delays: []))
        }
        let snapshot = policy.snapshot()
        #expect(snapshot.breakerState == .closed && snapshot.breakerTransitions == 0)
        #expect(snapshot.retries == 0 && snapshot.finalFailures == 20)
    }
}
