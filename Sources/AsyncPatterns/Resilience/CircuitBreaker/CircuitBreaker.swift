/// A thread-safe circuit breaker over `CircuitBreakerStateMachine`, reading time from an injected clock.
/// Usable from blocking threads and async tasks alike (it never waits). Call `tryAcquire()` before a call and
/// `record(_:outcome:)` with the permit after it.
public final class CircuitBreaker<C: Clock>: Sendable where C.Duration == Duration {
    /// Permission to make one call; pass it back to `record(_:outcome:)`.
    public struct Permit: Sendable, Hashable {
        let id: CircuitCallID
    }

    private struct State: Sendable {
        var machine: CircuitBreakerStateMachine
        var nextCallID: Int64 = 0
        var transitions: [CircuitTransition] = []
    }

    /// The most transitions kept in `transitions`; older ones are dropped first.
    public static var transitionLogLimit: Int { 10_000 }

    private let elapsed: Elapsed<C>
    private let state: LockedBox<State>

    /// Creates a closed breaker that reads time from `clock`.
    public init(configuration: CircuitBreakerConfiguration, clock: C) {
        self.elapsed = Elapsed(clock: clock)
        self.state = LockedBox(State(machine: CircuitBreakerStateMachine(configuration: configuration)))
    }

    /// Asks to make a call now: a permit, or nil when the breaker rejects the call (counted in `rejectedCount`).
    public func tryAcquire() -> Permit? {
        let now = elapsed.now()
        return state.withLock { state -> Permit? in
            state.nextCallID += 1
            let id = CircuitCallID(requestID: state.nextCallID, attempt: 0)
            let (permitted, transition) = state.machine.admit(id, now: now)
            if let transition { Self.log(transition, in: &state) }
            return permitted ? Permit(id: id) : nil
        }
    }

    /// Records how the call made with `permit` ended.
    public func record(_ permit: Permit, outcome: AttemptOutcome) {
        let now = elapsed.now()
        state.withLock { state in
            if let transition = state.machine.record(permit.id, outcome: outcome, now: now) {
                Self.log(transition, in: &state)
            }
        }
    }

    private static func log(_ transition: CircuitTransition, in state: inout State) {
        if state.transitions.count >= transitionLogLimit { state.transitions.removeFirst() }
        state.transitions.append(transition)
    }

    /// The current state (open stays open until a call arrives after the open duration).
    public var currentState: CircuitState { state.withLock { $0.machine.state } }

    /// How many calls were rejected so far.
    public var rejectedCount: Int { state.withLock { $0.machine.rejected } }

    /// Every transition so far, oldest first (at most `transitionLogLimit`).
    public var transitions: [CircuitTransition] { state.withLock { $0.transitions } }
}

extension CircuitBreaker where C == ContinuousClock {
    /// Creates a closed breaker on the continuous clock.
    public convenience init(configuration: CircuitBreakerConfiguration) {
        self.init(configuration: configuration, clock: ContinuousClock())
    }
}
