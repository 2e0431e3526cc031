import Dispatch
import Synchronization

/// A counting semaphore with an acquire timeout, a resizable limit and metrics. Async tasks wait with
/// `acquire(timeout:)` (the timeout runs on the injected clock); blocking threads wait with
/// `acquireBlocking(timeout:)` (the timeout runs on the system's monotonic clock). Waiters are served first in,
/// first out. Every successful acquire must be followed by exactly one `release()`.
public final class ConcurrencyLimiter<C: Clock>: Sendable where C.Duration == Duration {
    /// A snapshot of the limiter's counters.
    public struct Metrics: Sendable, Hashable {
        /// The current limit.
        public var limit: Int
        /// Permits held now.
        public var current: Int
        /// The most permits ever held at once.
        public var peak: Int
        /// Callers waiting now.
        public var waiting: Int
        /// Acquires that had to wait (whatever their end).
        public var waits: Int
        /// Acquires that gave up because their timeout fired.
        public var timeouts: Int
        /// Acquires that got a permit.
        public var acquired: Int
    }

    private enum Resumer: Sendable {
        case async(CheckedContinuation<Bool, Never>)
        case blocking(DispatchSemaphore)

        func grant() {
            switch self {
            case .async(let continuation): continuation.resume(returning: true)
            case .blocking(let semaphore): semaphore.signal()
            }
        }
    }

    private struct Waiter: Sendable {
        var id: UInt64
        var resumer: Resumer
    }

    private struct State: Sendable {
        var waits = 0
        var timeouts = 0
        var nextID: UInt64 = 0
        var waiters: [Waiter] = []
        var unregistered: Set<UInt64> = []
        var expiredBeforeRegistering: Set<UInt64> = []
    }

    private enum FirstTry {
        case granted
        case failed
        case wait(UInt64)
    }

    private let clock: C
    private let state: LockedBox<State>
    // The fast path (a free permit, nobody waiting) touches only these atomics; the queue lives under the lock.
    // `waiting` mirrors `state.waiters.count` and is changed only under the lock. All orderings are sequentially
    // consistent: a releaser decrements `current` then reads `waiting`; a waiter increments `waiting` then tries to
    // take a permit; so either the releaser sees the waiter, or the waiter sees the freed permit.
    private let current = Atomic<Int>(0)
    private let limit: Atomic<Int>
    private let waiting = Atomic<Int>(0)
    private let peak = Atomic<Int>(0)
    private let acquired = Atomic<Int>(0)

    /// Creates a limiter allowing `limit` (at least 1) permits at once; async timeouts run on `clock`.
    public init(limit: Int, clock: C) {
        precondition(limit >= 1, "a concurrency limit must be at least 1")
        self.clock = clock
        self.limit = Atomic(limit)
        self.state = LockedBox(State())
    }

    /// Takes a permit if one is free (ignoring waiters): compare-and-swap on `current`.
    @inline(__always)
    private func grab() -> Bool {
        var held = current.load(ordering: .sequentiallyConsistent)
        while held < limit.load(ordering: .sequentiallyConsistent) {
            let (exchanged, original) = current.compareExchange(
                expected: held, desired: held + 1, ordering: .sequentiallyConsistent)
            if exchanged {
                if held + 1 > peak.load(ordering: .relaxed) { peak.max(held + 1, ordering: .relaxed) }
                acquired.add(1, ordering: .relaxed)
                return true
            }
            held = original
        }
        return false
    }

    /// Hands free permits to waiters in order (call under the lock); returns whom to wake.
    private func grantWaiters(_ state: inout State) -> [Resumer] {
        var woken: [Resumer] = []
        while !state.waiters.isEmpty, grab() {
            woken.append(state.waiters.removeFirst().resumer)
            waiting.subtract(1, ordering: .sequentiallyConsistent)
        }
        return woken
    }

    /// Queues a waiter (call under the lock) and serves the queue at once, in case a permit was freed meanwhile.
    private func enqueue(_ waiter: Waiter, _ state: inout State) -> [Resumer] {
        state.waiters.append(waiter)
        waiting.add(1, ordering: .sequentiallyConsistent)
        return grantWaiters(&state)
    }

    /// Takes a permit if one is free right now and nobody is waiting, without waiting.
    public func tryAcquire() -> Bool {
        guard waiting.load(ordering: .sequentiallyConsistent) == 0 else { return false }
        return grab()
    }

    private func firstTry(timeout: Duration?) -> FirstTry {
        if tryAcquire() { return .granted }
        return state.withLock { state in
            if state.waiters.isEmpty, grab() { return .granted }
            state.waits += 1
            if let timeout, timeout <= .zero {
                state.timeouts += 1
                return .failed
            }
            state.nextID += 1
            state.unregistered.insert(state.nextID)
            return .wait(state.nextID)
        }
    }

    /// Waits for a permit for at most `timeout` (nil: no limit) on the clock. Returns false when the timeout fires
    /// (counted in `timeouts`) or the task is cancelled first; then no permit is held.
    public func acquire(timeout: Duration?) async -> Bool {
        let id: UInt64
        switch firstTry(timeout: timeout) {
        case .granted: return true
        case .failed: return false
        case .wait(let waiterID): id = waiterID
        }
        let deadline = timeout.map { clock.now.advanced(by: $0) }
        return await withTaskGroup(of: Void.self) { group in
            if let deadline {
                group.addTask { [clock] in
                    do {
                        try await clock.sleep(until: deadline, tolerance: nil)
                        self.expire(id, timedOut: true)
                    } catch {}
                }
            }
            let granted = await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                    register(id, continuation)
                }
            } onCancel: {
                expire(id, timedOut: false)
            }
            group.cancelAll()
            return granted
        }
    }

    private func register(_ id: UInt64, _ continuation: CheckedContinuation<Bool, Never>) {
        let (expired, woken) = state.withLock { state -> (Bool, [Resumer]) in
            state.unregistered.remove(id)
            if state.expiredBeforeRegistering.remove(id) != nil { return (true, []) }
            return (false, enqueue(Waiter(id: id, resumer: .async(continuation)), &state))
        }
        if expired { continuation.resume(returning: false) }
        for resumer in woken { resumer.grant() }
    }

    private func expire(_ id: UInt64, timedOut: Bool) {
        let waiter = state.withLock { state -> Waiter? in
            if let index = state.waiters.firstIndex(where: { $0.id == id }) {
                if timedOut { state.timeouts += 1 }
                waiting.subtract(1, ordering: .sequentiallyConsistent)
                return state.waiters.remove(at: index)
            }
            if state.unregistered.contains(id), state.expiredBeforeRegistering.insert(id).inserted, timedOut {
                state.timeouts += 1
            }
            return nil
        }
        if case .async(let continuation) = waiter?.resumer { continuation.resume(returning: false) }
    }

    /// Blocks the calling thread until a permit is free, for at most `timeout` (nil: no limit) of real monotonic
    /// time. Returns false when the timeout fires (counted in `timeouts`). For blocking engines' threads only.
    public func acquireBlocking(timeout: Duration?) -> Bool {
        if tryAcquire() { return true }
        let semaphore = DispatchSemaphore(value: 0)
        let (id, woken) = state.withLock { state -> (UInt64, [Resumer]) in
            state.waits += 1
            state.nextID += 1
            return (state.nextID, enqueue(Waiter(id: state.nextID, resumer: .blocking(semaphore)), &state))
        }
        for resumer in woken { resumer.grant() }
        guard let timeout else {
            semaphore.wait()
            return true
        }
        let nanoseconds = max(0, min(timeout.wholeNanoseconds, Int64(Int.max)))
        if semaphore.wait(timeout: .now() + .nanoseconds(Int(nanoseconds))) == .success { return true }
        let gaveUp = state.withLock { state -> Bool in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return false }
            state.waiters.remove(at: index)
            waiting.subtract(1, ordering: .sequentiallyConsistent)
            state.timeouts += 1
            return true
        }
        if gaveUp { return false }
        semaphore.wait()  // granted just as the timeout fired: take the signal that is on its way
        return true
    }

    /// Returns a permit, waking the longest waiter if there is room.
    public func release() {
        let before = current.subtract(1, ordering: .sequentiallyConsistent).oldValue
        precondition(before > 0, "ConcurrencyLimiter.release() without a matching acquire")
        guard waiting.load(ordering: .sequentiallyConsistent) > 0 else { return }
        let woken = state.withLock { grantWaiters(&$0) }
        for resumer in woken { resumer.grant() }
    }

    /// Changes the limit (at least 1). A larger limit wakes waiters at once; a smaller one takes effect as permits
    /// are released.
    public func setLimit(_ limit: Int) {
        precondition(limit >= 1, "a concurrency limit must be at least 1")
        self.limit.store(limit, ordering: .sequentiallyConsistent)
        let woken = state.withLock { grantWaiters(&$0) }
        for resumer in woken { resumer.grant() }
    }

    /// The limiter's counters now.
    public var metrics: Metrics {
        state.withLock { state in
            Metrics(
                limit: limit.load(ordering: .sequentiallyConsistent),
                current: current.load(ordering: .sequentiallyConsistent),
                peak: peak.load(ordering: .sequentiallyConsistent), waiting: state.waiters.count, waits: state.waits,
                timeouts: state.timeouts, acquired: acquired.load(ordering: .sequentiallyConsistent))
        }
    }

    /// Runs `body` holding a permit, waiting at most `timeout` for it; throws `ConcurrencyLimiterError.timeout`
    /// when no permit came in time (or the task was cancelled while waiting), and rethrows `body`'s errors.
    public func withPermit<T: Sendable>(timeout: Duration?, _ body: () async throws -> T) async throws -> T {
        guard await acquire(timeout: timeout) else { throw ConcurrencyLimiterError.timeout }
        defer { release() }
        return try await body()
    }
}

extension ConcurrencyLimiter where C == ContinuousClock {
    /// Creates a limiter whose async timeouts run on the continuous clock.
    public convenience init(limit: Int) {
        self.init(limit: limit, clock: ContinuousClock())
    }
}

/// Why a limiter could not give a permit.
public struct ConcurrencyLimiterError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case timeout
    }

    private let code: Code

    /// No permit became free before the acquire timeout (or the waiting task was cancelled).
    public static let timeout = ConcurrencyLimiterError(code: .timeout)

    /// A short stable label, as stored in the database.
    public var label: String { ErrorClass.limiterTimeout.rawValue }

    public var description: String {
        "no concurrency permit became free before the acquire timeout; raise the limit or the acquire timeout, "
            + "or lower the offered load"
    }
}
