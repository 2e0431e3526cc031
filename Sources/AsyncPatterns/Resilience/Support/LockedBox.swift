#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A value behind a pthread mutex, like NIO's `NIOLockedValueBox`.
///
/// Why not `Synchronization.Mutex`: on Linux it is a priority-inheritance futex lock that hands the lock to a
/// sleeping waiter on every contended unlock. Measured on this 2-core machine (release build, 8 threads, empty
/// critical section), `Mutex` took 7–27 µs per lock/unlock against 33 ns for a pthread mutex — a convoy that made
/// the patterns' 8-thread overhead 340 µs per call. The glibc default mutex lets a running thread re-take the lock.
/// The value lives behind a pointer, so access costs no dynamic exclusivity check.
final class LockedBox<Value: Sendable>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let value: UnsafeMutablePointer<Value>

    init(_ initial: Value) {
        value = .allocate(capacity: 1)
        value.initialize(to: initial)
        mutex = .allocate(capacity: 1)
        let result = pthread_mutex_init(mutex, nil)
        precondition(result == 0, "pthread_mutex_init failed: \(result)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        value.deinitialize(count: 1)
        value.deallocate()
    }

    /// Runs `body` with exclusive access to the value.
    @inline(__always)
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value.pointee)
    }
}
