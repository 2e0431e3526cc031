/// A thread-safe adaptive throttle with its own seeded generator, reading time from an injected clock.
public final class AdaptiveThrottle<C: Clock>: Sendable where C.Duration == Duration {
    private struct State: Sendable {
        var machine: AdaptiveThrottleStateMachine
        var generator: SplitMix64
    }

    private let elapsed: Elapsed<C>
    private let state: LockedBox<State>

    /// Creates a throttle whose random draws are fixed by `seed`.
    public init(configuration: AdaptiveThrottleConfiguration, seed: UInt64, clock: C) {
        self.elapsed = Elapsed(clock: clock)
        self.state = LockedBox(
            State(
                machine: AdaptiveThrottleStateMachine(configuration: configuration), generator: SplitMix64(seed: seed)))
    }

    /// Counts a request and returns whether it may be sent (false: reject it locally as `.throttled`).
    public func tryAcquire() -> Bool {
        let now = elapsed.now()
        return state.withLock { state in
            let draw = SplitMix64.unitInterval(state.generator.next())
            return state.machine.admit(now: now, random: draw)
        }
    }

    /// Records how a sent request ended; only accepts change the throttle.
    public func record(_ errorClass: ErrorClass) {
        guard AdaptiveThrottleStateMachine.isAccept(errorClass) else { return }
        let now = elapsed.now()
        state.withLock { $0.machine.recordAccept(now: now) }
    }

    /// The current rejection probability, in [0, 1).
    public var rejectionProbability: Double {
        let now = elapsed.now()
        return state.withLock { $0.machine.rejectionProbability(now: now) }
    }

    /// Requests rejected locally so far.
    public var rejectedCount: Int { state.withLock { $0.machine.rejected } }
}

extension AdaptiveThrottle where C == ContinuousClock {
    /// Creates a throttle on the continuous clock.
    public convenience init(configuration: AdaptiveThrottleConfiguration, seed: UInt64) {
        self.init(configuration: configuration, seed: seed, clock: ContinuousClock())
    }
}
