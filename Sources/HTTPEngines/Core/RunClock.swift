/// The monotonic clock of one engine run: nanoseconds since the run started, shared by all workers.
public struct RunClock: Sendable {
    /// The instant the run started.
    public let origin: ContinuousClock.Instant

    /// Starts a run clock now.
    public init() {
        self.origin = ContinuousClock.now
    }

    /// Nanoseconds elapsed since the run started.
    public func now() -> Int64 {
        Self.nanoseconds(ContinuousClock.now - origin)
    }

    /// The instant that is `ns` nanoseconds after the run started.
    public func instant(atNs ns: Int64) -> ContinuousClock.Instant {
        origin.advanced(by: .nanoseconds(ns))
    }

    /// Converts a duration to whole nanoseconds (saturating at `Int64.max`).
    public static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? Int64.min : Int64.max }
        return scaled &+ attoseconds / 1_000_000_000
    }

    /// Converts a duration to whole milliseconds, at least 1 (libcurl treats 0 as "no timeout").
    static func milliseconds(_ duration: Duration) -> Int {
        max(1, Int(nanoseconds(duration) / 1_000_000))
    }
}
