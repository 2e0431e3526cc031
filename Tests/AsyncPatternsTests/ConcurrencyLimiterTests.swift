import Foundation
import Synchronization
import TestSupport
import Testing

@testable import AsyncPatterns

/// Yields until `condition` holds (no sleeping); fails the test after many rounds.
func eventually(_ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async {
    for _ in 0..<100_000 {
        if condition() { return }
        await Task.yield()
    }
    Issue.record("condition never became true", sourceLocation: sourceLocation)
}

@Suite("Concurrency limiter", .timeLimit(.minutes(1)))
struct ConcurrencyLimiterTests {
    @Test func metricsCountCurrentPeakAndAcquired() {
        let limiter = ConcurrencyLimiter(limit: 2, clock: ManualClock())
        #expect(limiter.tryAcquire())
        #expect(limiter.tryAcquire())
        #expect(!limiter.tryAcquire())
        limiter.release()
        #expect(limiter.tryAcquire())
        limiter.release()
        limiter.release()
        let metrics = limiter.metrics
        #expect(metrics == .init(limit: 2, current: 0, peak: 2, waiting: 0, waits: 0, timeouts: 0, acquired: 3))
    }

    @Test func asyncAcquireTimesOutOnTheManualClock() async {
        let clock = ManualClock()
        let limiter = ConcurrencyLimiter(limit: 1, clock: clock)
        #expect(await limiter.acquire(timeout: .seconds(1)))
        async let second = limiter.acquire(timeout: .seconds(1))
        await eventually { limiter.metrics.waiting == 1 && clock.sleeperCount == 1 }
        clock.advance(by: .milliseconds(999))
        #expect(limiter.metrics.waiting == 1)
        clock.advance(by: .milliseconds(1))
        #expect(await second == false)
        let metrics = limiter.metrics
        #expect(metrics.timeouts == 1 && metrics.waits == 1 && metrics.waiting == 0 && metrics.current == 1)
        limiter.release()
        #expect(limiter.metrics.current == 0)
    }

    @Test func zeroTimeoutFailsAtOnceWhenFull() async {
        let limiter = ConcurrencyLimiter(limit: 1, clock: ManualClock())
        #expect(await limiter.acquire(timeout: .zero))
        #expect(await limiter.acquire(timeout: .zero) == false)
        #expect(limiter.metrics.timeouts == 1)
    }

    @Test func releaseHandsThePermitToTheFirstWaiter() async {
        let clock = ManualClock()
        let limiter = ConcurrencyLimiter(limit: 1, clock: clock)
        #expect(limiter.tryAcquire())
        async let waiter = limiter.acquire(timeout: .seconds(5))
        await eventually { limiter.metrics.waiting == 1 }
        #expect(!limiter.tryAcquire())  // no barging past a waiter
        limiter.release()
        #expect(await waiter)
        #expect(limiter.metrics.current == 1)
        #expect(limiter.metrics.timeouts == 0)
        await eventually { clock.sleeperCount == 0 }  // the timeout timer was cancelled
        limiter.release()
    }

    @Test func raisingTheLimitWakesWaiters() async {
        let limiter = ConcurrencyLimiter(limit: 1, clock: ManualClock())
        #expect(limiter.tryAcquire())
        async let first = limiter.acquire(timeout: nil)
        async let second = limiter.acquire(timeout: nil)
        await eventually { limiter.metrics.waiting == 2 }
        limiter.setLimit(3)
        #expect(await first)
        #expect(await second)
        #expect(limiter.metrics.current == 3 && limiter.metrics.peak == 3 && limiter.metrics.limit == 3)
        limiter.setLimit(1)
        limiter.release()
        limiter.release()
        #expect(!limiter.tryAcquire())  // still 1 held, limit 1
        limiter.release()
        #expect(limiter.tryAcquire())
        limiter.release()
    }

    @Test func cancellingAWaiterReturnsFalseWithoutATimeout() async {
        let limiter = ConcurrencyLimiter(limit: 1, clock: ManualClock())
        #expect(limiter.tryAcquire())
        let task = Task { await limiter.acquire(timeout: nil) }
        await eventually { limiter.metrics.waiting == 1 }
        task.cancel()
        #expect(await task.value == false)
        #expect(limiter.metrics.timeouts == 0 && limiter.metrics.waiting == 0 && limiter.metrics.current == 1)
        limiter.release()
    }

    @Test func blockingAcquireWaitsForARelease() {
        let limiter = ConcurrencyLimiter(limit: 1, clock: ManualClock())
        #expect(limiter.acquireBlocking(timeout: nil))
        let done = DispatchSemaphore(value: 0)
        let got = Atomic<Bool>(false)
        Thread {
            got.store(limiter.acquireBlocking(timeout: nil), ordering: .sequentiallyConsistent)
            done.signal()
        }.start()
        while limiter.metrics.waiting == 0 { sched_yield() }
        limiter.release()
        done.wait()
        let acquired = got.load(ordering: .sequentiallyConsistent)
        #expect(acquired)
        #expect(limiter.metrics.waits == 1 && limiter.metrics.current == 1)
        limiter.release()
    }

    @Test func blockingAcquireTimesOut() {
        let limiter = ConcurrencyLimiter(limit: 1, clock: ManualClock())
        #expect(limiter.acquireBlocking(timeout: nil))
        #expect(!limiter.acquireBlocking(timeout: .milliseconds(5)))
        #expect(limiter.metrics.timeouts == 1 && limiter.metrics.waiting == 0)
        limiter.release()
    }

    @Test func neverMoreThanTheLimitUnderContention() async {
        let limiter = ConcurrencyLimiter(limit: 3, clock: ManualClock())
        final class Gauge: Sendable {
            let inside = Atomic<Int>(0)
            let worst = Atomic<Int>(0)
        }
        let gauge = Gauge()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    guard await limiter.acquire(timeout: nil) else { return }
                    let now = gauge.inside.add(1, ordering: .sequentiallyConsistent).newValue
                    gauge.worst.max(now, ordering: .sequentiallyConsistent)
                    await Task.yield()
                    gauge.inside.subtract(1, ordering: .sequentiallyConsistent)
                    limiter.release()
                }
            }
        }
        let most = gauge.worst.load(ordering: .sequentiallyConsistent)
        #expect(most <= 3)
        #expect(limiter.metrics.acquired == 200 && limiter.metrics.current == 0 && limiter.metrics.peak <= 3)
    }

    @Test func blockingThreadsAndTasksNeverExceedTheLimit() async {
        let limiter = ConcurrencyLimiter(limit: 2, clock: ManualClock())
        final class Gauge: Sendable {
            let inside = Atomic<Int>(0)
            let worst = Atomic<Int>(0)
            func enter() {
                let now = inside.add(1, ordering: .sequentiallyConsistent).newValue
                worst.max(now, ordering: .sequentiallyConsistent)
            }
            func leave() { inside.subtract(1, ordering: .sequentiallyConsistent) }
        }
        let gauge = Gauge()
        let threadsDone = DispatchSemaphore(value: 0)
        for _ in 0..<8 {
            Thread {
                for _ in 0..<2_000 {
                    guard limiter.acquireBlocking(timeout: nil) else { continue }
                    gauge.enter()
                    gauge.leave()
                    limiter.release()
                }
                threadsDone.signal()
            }.start()
        }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    for _ in 0..<20 {
                        guard await limiter.acquire(timeout: nil) else { continue }
                        gauge.enter()
                        await Task.yield()
                        gauge.leave()
                        limiter.release()
                    }
                }
            }
        }
        for _ in 0..<8 { threadsDone.wait() }
        let most = gauge.worst.load(ordering: .sequentiallyConsistent)
        #expect(most <= 2)
        let metrics = limiter.metrics
        #expect(metrics.acquired == 16_000 + 2_000)
        #expect(metrics.current == 0 && metrics.waiting == 0 && metrics.peak == 2 && metrics.timeouts == 0)
    }

    @Test func withPermitThrowsTimeout() async throws {
        let limiter = ConcurrencyLimiter(limit: 1, clock: ManualClock())
        let value = try await limiter.withPermit(timeout: .zero) { 42 }
        #expect(value == 42 && limiter.metrics.current == 0)
        #expect(limiter.tryAcquire())
        await #expect(throws: ConcurrencyLimiterError.timeout) {
            try await limiter.withPermit(timeout: .zero) { 1 }
        }
        #expect(String(describing: ConcurrencyLimiterError.timeout).contains("raise the limit"))
        limiter.release()
    }
}

@Suite("Manual clock", .timeLimit(.minutes(1)))
struct ManualClockTests {
    @Test func sleepersWakeWhenTheirDeadlinePasses() async throws {
        let clock = ManualClock()
        #expect(clock.now == ManualClock.Instant(offset: .zero))
        async let short: Void = clock.sleep(for: .seconds(1))
        async let long: Void = clock.sleep(for: .seconds(3))
        await eventually { clock.sleeperCount == 2 }
        clock.advance(by: .seconds(2))
        try await short
        #expect(clock.sleeperCount == 1)
        clock.advance(to: ManualClock.Instant(offset: .seconds(3)))
        try await long
        #expect(clock.now.offset == .seconds(3))
        try await clock.sleep(until: .init(offset: .seconds(1)))  // already past: returns at once
    }

    @Test func cancellingASleeperThrows() async {
        let clock = ManualClock()
        let task = Task { try await clock.sleep(for: .seconds(10)) }
        await eventually { clock.sleeperCount == 1 }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(clock.sleeperCount == 0)
    }
}
