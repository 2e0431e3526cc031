import Synchronization

/// A clock that moves only when a test advances it. Its instants are offsets from zero, not wall time, and
/// sleepers wake in deadline order when `advance(by:)` passes their deadline. Thread-safe.
public final class ManualClock: Clock, Sendable {
    /// A point on a manual clock: an offset from the clock's zero.
    public struct Instant: InstantProtocol, Sendable, Hashable, CustomStringConvertible {
        /// How far this instant is from the clock's zero.
        public var offset: Duration

        /// Creates the instant `offset` after the clock's zero.
        public init(offset: Duration) {
            self.offset = offset
        }

        /// The instant `duration` later.
        public func advanced(by duration: Duration) -> Instant {
            Instant(offset: offset + duration)
        }

        /// The duration from this instant to `other`.
        public func duration(to other: Instant) -> Duration {
            other.offset - offset
        }

        /// Whether `lhs` is earlier than `rhs`.
        public static func < (lhs: Instant, rhs: Instant) -> Bool {
            lhs.offset < rhs.offset
        }

        public var description: String { "ManualClock.Instant(\(offset))" }
    }

    private struct Sleeper {
        var id: UInt64
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Instant
        var nextID: UInt64 = 0
        var sleepers: [Sleeper] = []
        var cancelledBeforeSleeping: Set<UInt64> = []
    }

    private let state: Mutex<State>

    /// Creates a clock that reads `now` (zero by default) until it is advanced.
    public init(now: Instant = Instant(offset: .zero)) {
        self.state = Mutex(State(now: now))
    }

    /// The current instant; changes only through `advance(by:)` and `advance(to:)`.
    public var now: Instant { state.withLock { $0.now } }

    /// Zero: a manual clock has no resolution limit.
    public var minimumResolution: Duration { .zero }

    /// How many tasks are sleeping on this clock right now (tests poll it before advancing).
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// Moves the clock forward by `duration` (must not be negative) and wakes every sleeper now due.
    public func advance(by duration: Duration) {
        precondition(duration >= .zero, "ManualClock cannot go backwards; advance by a non-negative duration")
        let due = state.withLock { state -> [Sleeper] in
            state.now = state.now.advanced(by: duration)
            return Self.takeDue(&state)
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Moves the clock to `instant` if it is later than now, and wakes every sleeper now due.
    public func advance(to instant: Instant) {
        let due = state.withLock { state -> [Sleeper] in
            if instant > state.now { state.now = instant }
            return Self.takeDue(&state)
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    private static func takeDue(_ state: inout State) -> [Sleeper] {
        let now = state.now
        var due = state.sleepers.filter { $0.deadline <= now }
        guard !due.isEmpty else { return [] }
        state.sleepers.removeAll { $0.deadline <= now }
        due.sort { ($0.deadline, $0.id) < ($1.deadline, $1.id) }
        return due
    }

    /// Suspends until the clock reaches `deadline`; throws `CancellationError` if the task is cancelled first.
    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let immediate = state.withLock { state -> Result<Void, any Error>? in
                    if state.cancelledBeforeSleeping.remove(id) != nil { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                if let index = state.sleepers.firstIndex(where: { $0.id == id }) {
                    return state.sleepers.remove(at: index).continuation
                }
                state.cancelledBeforeSleeping.insert(id)
                return nil
            }
            continuation?.resume(throwing: CancellationError())
        }
    }
}
