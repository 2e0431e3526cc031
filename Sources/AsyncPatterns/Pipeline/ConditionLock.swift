#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A pthread mutex with condition variables, for code that must block OS threads (a SQLite writer thread,
/// producers under backpressure).
///
/// Why not `Synchronization.Mutex`: on Linux it is a priority-inheritance futex that hands the lock to a sleeping
/// waiter on every contended unlock, which convoys many producers; it also has no condition variable. The glibc
/// default mutex lets a running thread re-take the lock. Timed waits use the monotonic clock where available.
final class ConditionLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let conditions: UnsafeMutablePointer<pthread_cond_t>
    private let conditionCount: Int

    /// Creates the mutex and `conditions` condition variables, addressed by index from 0.
    init(conditions count: Int) {
        mutex = .allocate(capacity: 1)
        var result = pthread_mutex_init(mutex, nil)
        precondition(result == 0, "pthread_mutex_init failed: \(result)")
        conditionCount = count
        conditions = .allocate(capacity: count)
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
    }

    @inline(__always)
    func lock() { pthread_mutex_lock(mutex) }

    @inline(__always)
    func unlock() { pthread_mutex_unlock(mutex) }

    /// Waits on condition `index`; the lock must be held.
    @inline(__always)
    func wait(_ index: Int) { pthread_cond_wait(conditions + index, mutex) }

    /// Waits on condition `index` for at most `timeout`; the lock must be held.
    func wait(_ index: Int, timeout: Duration) {
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

    /// Wakes one waiter of condition `index`.
    @inline(__always)
    func signal(_ index: Int) { pthread_cond_signal(conditions + index) }

    /// Wakes every waiter of condition `index`.
    @inline(__always)
    func broadcast(_ index: Int) { pthread_cond_broadcast(conditions + index) }
}
