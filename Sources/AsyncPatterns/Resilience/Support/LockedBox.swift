#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The project's one lock: a value behind a pthread mutex, with optional condition variables for code that must
/// block an OS thread (the recording pipeline's producers and writer thread, the blocking engines' workers). Like
/// NIO's `NIOLockedValueBox` and the standard library's `Mutex`, the value is reached only inside a scoped
/// `withLock { }`; `withLockWaiting { }` adds condition waits.
///
/// Why this and not `Synchronization.Mutex` or `NIOConcurrencyHelpers`:
/// - `Mutex` on Linux is a priority-inheritance futex (`FUTEX_LOCK_PI`): every contended unlock hands the lock
///   to a sleeping waiter through the kernel, so threads convoy once there are more threads than cores.
///   Measured on this 2-core machine (Swift 6.3.1, `swiftc -O`, an increment under the lock, 3 runs):
///   1 thread: pthread 14–20 ns, `Mutex` 12–17 ns, `NSLock` 20–23 ns per lock/unlock; 8 threads: pthread
///   14–21 ns, `Mutex` 4,150–32,800 ns, `NSLock` 19–59 ns. The blocking engines run 8 to 1,024 threads.
///   It also has no condition variable, which the pipeline and the blocking engines need.
/// - NIO's `NIOLock` is the same glibc mutex, but `AsyncPatterns` depends on nothing, and NIO's `ConditionLock`
///   has one condition that every unlock broadcasts, with timed waits on the wall clock: the pipeline needs a
///   consumer and a producer condition, signalled only when a batch fills, and monotonic deadlines.
/// The glibc default mutex lets a running thread re-take the lock; timed waits use the monotonic clock. The value
/// lives behind a pointer, so access costs no dynamic exclusivity check, and nothing is allocated per operation.
///
/// `@unchecked Sendable`, proof: `value` is read and written only with `mutex` held — inside `withLock`, or
/// through the pointer lent to a `withLockWaiting` closure, which may use it only while it runs (a `LockWaiter`
/// wait re-takes the lock before it returns) — or, in a box made `confinedToOneThread`, by the one thread its owner
/// promises uses it at a time. `Value` need not be `Sendable`, as with `Mutex`: it comes in `sending`, `withLock`
/// lends it out as `inout sending` and returns `sending` results, and `withLockWaiting` returns only `Sendable`
/// results, so no reference into it reaches another thread. The pointers themselves never change after `init`.
package final class LockedBox<Value>: @unchecked Sendable {
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline let conditions: UnsafeMutablePointer<pthread_cond_t>
    @usableFromInline let conditionCount: Int
    @usableFromInline let value: UnsafeMutablePointer<Value>
    /// Whether `withLock` takes the mutex. False only for a box its owner confines to one thread (the simulator's
    /// policy), where an uncontended lock and unlock were 6% of the simulation's time.
    @usableFromInline let locks: Bool

    /// Boxes `initial` behind a new mutex, with `conditions` condition variables addressed by index from 0.
    /// `confinedToOneThread`: `withLock` takes no lock, and the owner promises to use the box from one thread at a
    /// time (`withLockWaiting` still locks).
    package init(_ initial: sending Value, conditions count: Int = 0, confinedToOneThread: Bool = false) {
        locks = !confinedToOneThread
        value = .allocate(capacity: 1)
        value.initialize(to: initial)
        mutex = .allocate(capacity: 1)
        var result = pthread_mutex_init(mutex, nil)
        precondition(result == 0, "pthread_mutex_init failed: \(result)")
        conditionCount = count
        conditions = .allocate(capacity: max(count, 1))
        guard count > 0 else { return }
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if !canImport(Darwin)
            pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        #endif
        for index in 0..<count {
            result = pthread_cond_init(conditions + index, &attributes)
            precondition(result == 0, "pthread_cond_init failed: \(result)")
        }
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        for index in 0..<conditionCount { pthread_cond_destroy(conditions + index) }
        conditions.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        value.deinitialize(count: 1)
        value.deallocate()
    }

    /// Runs `body` with exclusive access to the value.
    @inlinable @inline(__always)
    package func withLock<Result>(_ body: (inout sending Value) throws -> sending Result) rethrows -> sending Result {
        guard locks else { return try body(&value.pointee) }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value.pointee)
    }

    /// Runs `body` with the lock held, giving it the value's address and a `LockWaiter` to wait on a condition
    /// (which releases the lock while it sleeps). Read through the pointer after a wait: another thread may have
    /// changed the value meanwhile. The pointer and the waiter are valid only inside `body`.
    @inlinable @inline(__always)
    package func withLockWaiting<Result: Sendable>(
        _ body: (UnsafeMutablePointer<Value>, borrowing LockWaiter) throws -> Result
    ) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(value, LockWaiter(mutex: mutex, conditions: conditions))
    }

    /// Wakes one waiter of condition `index`. Callable with or without the lock held.
    @inlinable @inline(__always)
    package func signal(_ index: Int) { pthread_cond_signal(conditions + index) }

    /// Wakes every waiter of condition `index`. Callable with or without the lock held.
    @inlinable @inline(__always)
    package func broadcast(_ index: Int) { pthread_cond_broadcast(conditions + index) }
}

/// Waits on a `LockedBox`'s conditions while its lock is held; lent to `withLockWaiting` only. Not generic, so
/// waiting costs no type metadata look-up in unspecialized code.
package struct LockWaiter: ~Copyable {
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline let conditions: UnsafeMutablePointer<pthread_cond_t>

    @inlinable
    init(mutex: UnsafeMutablePointer<pthread_mutex_t>, conditions: UnsafeMutablePointer<pthread_cond_t>) {
        self.mutex = mutex
        self.conditions = conditions
    }

    /// Releases the lock until condition `index` is signalled (or spuriously), then takes it again.
    @inlinable @inline(__always)
    package func wait(_ index: Int) { pthread_cond_wait(conditions + index, mutex) }

    /// As `wait(_:)`, for at most `timeout`; returns at once when `timeout` is not positive.
    package func wait(_ index: Int, timeout: Duration) {
        let components = timeout.components
        let seconds = components.seconds
        let nanoseconds = components.attoseconds / 1_000_000_000
        guard seconds > 0 || nanoseconds > 0 else { return }
        #if canImport(Darwin)
            var relative = timespec(tv_sec: Int(seconds), tv_nsec: Int(nanoseconds))
            pthread_cond_timedwait_relative_np(conditions + index, mutex, &relative)
        #else
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            var total = Int64(now.tv_nsec) + nanoseconds
            var wholeSeconds = Int64(now.tv_sec) + min(seconds, Int64(Int32.max))
            wholeSeconds += total / 1_000_000_000
            total %= 1_000_000_000
            var deadline = timespec(tv_sec: Int(wholeSeconds), tv_nsec: Int(total))
            pthread_cond_timedwait(conditions + index, mutex, &deadline)
        #endif
    }
}
