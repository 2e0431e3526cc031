import Foundation
import Synchronization
import TestSupport
import Testing

@testable import AsyncPatterns

/// Runs `body(thread)` on `threads` OS threads at once and waits for all of them.
func onThreads(_ threads: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<threads {
        group.enter()
        Thread {
            body(index)
            group.leave()
        }.start()
    }
    group.wait()
}

/// A reference wrapper so `#expect` can call the budget state machine's mutating methods.
final class BudgetProbe {
    var machine: RetryBudgetStateMachine

    init(_ configuration: RetryBudgetConfiguration) {
        machine = RetryBudgetStateMachine(configuration: configuration)
    }

    func withdraw(at now: Duration) -> Bool { machine.tryWithdraw(now: now) }
    func available(at now: Duration) -> Double { machine.available(now: now) }
}

@Suite("Retry budget")
struct RetryBudgetTests {
    @Test func tokenBucketSpendsCostAndRefundsExactly() {
        let budget = BudgetProbe(.tokenBucket(maxTokens: 10, costPerRetry: 1, refundPerSuccess: 0.1))
        for _ in 0..<10 { #expect(budget.withdraw(at: .zero)) }
        #expect(!budget.withdraw(at: .zero))
        #expect(budget.available(at: .zero) == 0)
        // Nine refunds of 0.1 are not yet a token; the tenth makes exactly one (no floating-point drift).
        for _ in 0..<9 { budget.machine.recordSuccess() }
        #expect(!budget.withdraw(at: .zero))
        budget.machine.recordSuccess()
        #expect(budget.available(at: .zero) == 1)
        #expect(budget.withdraw(at: .zero))
        #expect(!budget.withdraw(at: .zero))
        #expect(budget.machine.granted == 11 && budget.machine.refused == 3)
    }

    @Test func tokenBucketRefundsNeverExceedMaxTokens() {
        let budget = BudgetProbe(.tokenBucket(maxTokens: 2, costPerRetry: 0.5, refundPerSuccess: 1))
        for _ in 0..<100 { budget.machine.recordSuccess() }
        #expect(budget.available(at: .zero) == 2)
        for _ in 0..<4 { #expect(budget.withdraw(at: .zero)) }
        #expect(!budget.withdraw(at: .zero))
    }

    @Test func ratioAllowsAShareOfRecentRequests() {
        let budget = BudgetProbe(.ratio(ratio: 0.2, window: .seconds(10), minRetriesPerSecond: 0))
        #expect(!budget.withdraw(at: .zero))
        for _ in 0..<100 { budget.machine.recordRequest(now: .zero) }
        for _ in 0..<20 { #expect(budget.withdraw(at: .seconds(1))) }
        #expect(!budget.withdraw(at: .seconds(1)))
        // Still inside the window at 9.999 s; at 10 s the first bucket (requests and retries) slides out.
        #expect(!budget.withdraw(at: .milliseconds(9_999)))
        for _ in 0..<10 { budget.machine.recordRequest(now: .seconds(10)) }
        // 20 retries in the 1 s bucket against 0.2 × 10 requests: refused.
        #expect(!budget.withdraw(at: .seconds(10)))
        // At 11 s the retries of the 1 s bucket have slid out; 0.2 × 10 = 2 allowed.
        #expect(budget.withdraw(at: .seconds(11)))
        #expect(budget.withdraw(at: .seconds(11)))
        #expect(!budget.withdraw(at: .seconds(11)))
    }

    @Test func ratioFloorLetsAQuietClientRetry() {
        let budget = BudgetProbe(.ratio(ratio: 0.1, window: .seconds(10), minRetriesPerSecond: 1))
        // Floor: 1 retry/s × 10 s = 10 retries per window even with no requests.
        for _ in 0..<10 { #expect(budget.withdraw(at: .zero)) }
        #expect(!budget.withdraw(at: .zero))
        #expect(budget.available(at: .zero) == 0)
        // Refills as the window slides.
        #expect(budget.available(at: .seconds(10)) == 10)
        #expect(budget.withdraw(at: .seconds(10)))
    }

    @Test(.timeLimit(.minutes(1)))
    func neverExceededUnderEightThreads() {
        let budget = RetryBudget(
            configuration: .tokenBucket(maxTokens: 50, costPerRetry: 1, refundPerSuccess: 0.5), clock: ManualClock())
        let granted = Atomic<Int>(0)
        let successes = Atomic<Int>(0)
        onThreads(8) { thread in
            for index in 0..<5_000 {
                if index % 10 == thread % 10 {
                    budget.recordSuccess(key: "host")
                    successes.add(1, ordering: .relaxed)
                }
                if budget.tryWithdraw(key: "host") { granted.add(1, ordering: .relaxed) }
            }
        }
        let total = granted.load(ordering: .relaxed)
        let refunds = successes.load(ordering: .relaxed)
        // Every token spent was either there at the start or refunded, and none was left unused at the end beyond
        // what the bucket holds.
        #expect(Double(total) <= 50 + 0.5 * Double(refunds))
        let left = budget.available(key: "host")
        #expect(Double(total) + left >= 0.5 * Double(refunds))  // refunds only lost when the bucket was full
        #expect(budget.counts(key: "host").granted == total)
        #expect(budget.counts(key: "other").granted == 0)
        #expect(budget.available(key: "other") == 50)
    }

    @Test(.timeLimit(.minutes(1)))
    func neverExceededUnderAThousandTasks() async {
        let budget = RetryBudget(
            configuration: .tokenBucket(maxTokens: 100, costPerRetry: 2, refundPerSuccess: 0), clock: ManualClock())
        let granted = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<1_000 {
                group.addTask {
                    var mine = 0
                    for _ in 0..<10 where budget.tryWithdraw() { mine += 1 }
                    return mine
                }
            }
            return await group.reduce(0, +)
        }
        #expect(granted == 50)
        #expect(budget.counts().refused == 10_000 - 50)
    }

    @Test(.timeLimit(.minutes(1)))
    func ratioNeverExceededUnderThreadsAndRefillsAsTheWindowSlides() {
        let clock = ManualClock()
        let budget = RetryBudget(
            configuration: .ratio(ratio: 0.25, window: .seconds(1), minRetriesPerSecond: 0), clock: clock)
        let granted = Atomic<Int>(0)
        onThreads(8) { _ in
            for _ in 0..<1_000 {
                budget.recordRequest()
                if budget.tryWithdraw() { granted.add(1, ordering: .relaxed) }
            }
        }
        // At every moment retries <= 0.25 × requests, so overall <= 2000.
        #expect(granted.load(ordering: .relaxed) <= 2_000)
        #expect(granted.load(ordering: .relaxed) >= 1_990)
        #expect(!budget.tryWithdraw())
        clock.advance(by: .seconds(1))
        #expect(budget.available() == 0)  // requests slid out too
        for _ in 0..<8 { budget.recordRequest() }
        #expect(budget.tryWithdraw() && budget.tryWithdraw())
        #expect(!budget.tryWithdraw())
    }
}
