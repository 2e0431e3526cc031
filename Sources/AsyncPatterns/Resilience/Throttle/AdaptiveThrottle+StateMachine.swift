/// Requests and backend accepts in a throttle's window.
struct ThrottleTally: WindowTally, Hashable {
    var requests = 0
    var accepts = 0

    static let zero = ThrottleTally()

    static func += (lhs: inout ThrottleTally, rhs: ThrottleTally) {
        lhs.requests += rhs.requests
        lhs.accepts += rhs.accepts
    }

    static func -= (lhs: inout ThrottleTally, rhs: ThrottleTally) {
        lhs.requests -= rhs.requests
        lhs.accepts -= rhs.accepts
    }
}

/// The adaptive throttle as a pure state machine. Every request asked about counts as a request (rejected or not,
/// as in the SRE book); accepts are recorded when the backend answered without an overload or failure signal.
struct AdaptiveThrottleStateMachine: Sendable {
    let configuration: AdaptiveThrottleConfiguration
    private var window: TimeBucketWindow<ThrottleTally>
    /// Requests rejected locally so far.
    private(set) var rejected = 0

    init(configuration: AdaptiveThrottleConfiguration) {
        self.configuration = configuration
        self.window = TimeBucketWindow(duration: configuration.window, bucketCount: configuration.buckets)
    }

    /// Whether the backend accepted an attempt that ended like this: failures and 429s are not accepts.
    static func isAccept(_ errorClass: ErrorClass) -> Bool {
        errorClass == .ok || errorClass == .http4xx
    }

    /// The rejection probability at `now`, before counting a new request.
    mutating func rejectionProbability(now: Duration) -> Double {
        let total = window.total(at: now)
        return Self.probability(requests: total.requests, accepts: total.accepts, k: configuration.k)
    }

    /// `max(0, (requests − K·accepts) / (requests + 1))`.
    static func probability(requests: Int, accepts: Int, k: Double) -> Double {
        max(0, (Double(requests) - k * Double(accepts)) / (Double(requests) + 1))
    }

    /// Counts a request at `now` and decides it: `random` is a uniform draw in [0, 1); rejects when it is below the
    /// rejection probability. Returns whether the request may be sent.
    mutating func admit(now: Duration, random: Double) -> Bool {
        let probability = rejectionProbability(now: now)
        window.add(ThrottleTally(requests: 1, accepts: 0), at: now)
        if random < probability {
            rejected += 1
            return false
        }
        return true
    }

    /// Records a backend accept at `now`.
    mutating func recordAccept(now: Duration) {
        window.add(ThrottleTally(requests: 0, accepts: 1), at: now)
    }
}
