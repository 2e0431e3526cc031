import AsyncPatterns
import Foundation
import Testing

/// The project's one lock: exclusive access, condition waits that see other threads' writes, and timed waits.
@Suite(.timeLimit(.minutes(1)))
struct LockedBoxTests {
    @Test func incrementsFromManyThreadsAreNeverLost() {
        let box = LockedBox(0)
        let group = DispatchGroup()
        for _ in 0..<8 {
            group.enter()
            Thread {
                for _ in 0..<10_000 { box.withLock { $0 += 1 } }
                group.leave()
            }.start()
        }
        group.wait()
        #expect(box.withLock { $0 } == 80_000)
    }

    @Test func aWaiterSeesTheValueAnotherThreadSetBeforeSignalling() {
        let box = LockedBox(false, conditions: 1)
        let group = DispatchGroup()
        group.enter()
        Thread {
            Thread.sleep(forTimeInterval: 0.02)
            box.withLock { $0 = true }
            box.signal(0)
            group.leave()
        }.start()
        let seen = box.withLockWaiting { value, waiter -> Bool in
            while !value.pointee { waiter.wait(0) }
            return value.pointee
        }
        group.wait()
        #expect(seen)
    }

    @Test func aTimedWaitReturnsWithTheLockHeldAfterItsTimeout() {
        let box = LockedBox(0, conditions: 2)
        let value = box.withLockWaiting { value, waiter -> Int in
            waiter.wait(1, timeout: .milliseconds(30))
            value.pointee += 1
            return value.pointee
        }
        #expect(value == 1)
        // A timeout that is not positive returns at once.
        box.withLockWaiting { _, waiter in waiter.wait(0, timeout: .zero) }
    }
}
