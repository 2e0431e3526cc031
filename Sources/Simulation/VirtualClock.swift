import AsyncPatterns
import Synchronization

/// A clock whose time moves only when the simulator advances it: virtual nanoseconds since the simulation began.
///
/// It lets the library's own patterns (`ResiliencePolicy<VirtualClock>`, its breaker windows, budget windows and
/// open durations) run in virtual time. The time is one relaxed atomic, so reading it takes no lock; the simulator
/// is its only writer and runs on one thread.
public final class VirtualClock: Clock, Sendable {
    /// A point in virtual time, in nanoseconds since the simulation began.
    public struct Instant: InstantProtocol, Sendable, Hashable, Comparable {
        /// Nanoseconds since the simulation began.
        public var nanoseconds: Int64

        /// The instant `nanoseconds` after the simulation began.
        public init(nanoseconds: Int64) {
            self.nanoseconds = nanoseconds
        }

        /// The instant `duration` later (saturating at the bounds of `Int64` nanoseconds).
        public func advanced(by duration: Swift.Duration) -> Instant {
            Instant(nanoseconds: nanoseconds.addingSaturating(VirtualClock.nanoseconds(duration)))
        }

        /// The duration from this instant to `other`.
        public func duration(to other: Instant) -> Swift.Duration {
            .nanoseconds(other.nanoseconds &- nanoseconds)
        }

        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
    }

    private let time: Atomic<Int64>

    /// Creates a clock at `nanoseconds` (default 0) of virtual time.
    public init(nanoseconds: Int64 = 0) {
        time = Atomic(nanoseconds)
    }

    /// The current virtual time.
    public var now: Instant { Instant(nanoseconds: time.load(ordering: .relaxed)) }

    /// The current virtual time, in nanoseconds.
    public var nanoseconds: Int64 { time.load(ordering: .relaxed) }

    /// One nanosecond.
    public var minimumResolution: Swift.Duration { .nanoseconds(1) }

    /// Moves the clock to `nanoseconds`; time never goes back (a smaller value is a programmer's mistake).
    public func advance(toNanoseconds nanoseconds: Int64) {
        precondition(nanoseconds >= time.load(ordering: .relaxed), "virtual time cannot go back")
        time.store(nanoseconds, ordering: .relaxed)
    }

    /// Waits until another thread has advanced the clock to `deadline`, yielding meanwhile; throws
    /// `CancellationError` when the task is cancelled first. The simulator never sleeps on its clock: it is for
    /// code that runs beside a simulation.
    public func sleep(until deadline: Instant, tolerance: Swift.Duration? = nil) async throws {
        while now < deadline {
            try Task.checkCancellation()
            await Task.yield()
        }
    }

    /// A duration in whole nanoseconds (truncated toward zero), saturating at the bounds of `Int64`.
    @inline(__always)
    static func nanoseconds(_ duration: Swift.Duration) -> Int64 {
        duration.wholeNanoseconds
    }
}

extension Int64 {
    /// `self + other`, clamped to the bounds of `Int64`.
    @inline(__always)
    func addingSaturating(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other < 0 ? .min : .max
    }
}
