import Foundation

/// The calendar time that `Retry-After` dates are measured against, injectable so tests can fix it.
public struct WallClock: Sendable {
    /// Returns the time since the Unix epoch (1970-01-01T00:00:00Z).
    public var nowSinceEpoch: @Sendable () -> Duration

    /// Creates a wall clock from a function returning the time since the Unix epoch.
    public init(nowSinceEpoch: @escaping @Sendable () -> Duration) {
        self.nowSinceEpoch = nowSinceEpoch
    }

    /// The system's calendar time.
    public static let system = WallClock {
        let seconds = Date().timeIntervalSince1970
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }

    /// A wall clock stuck at `sinceEpoch` after the Unix epoch.
    public static func fixed(_ sinceEpoch: Duration) -> WallClock {
        WallClock { sinceEpoch }
    }
}
