/// Logical requests and retries in a ratio budget's window.
struct BudgetTally: WindowTally, Hashable {
    var requests = 0
    var retries = 0

    static let zero = BudgetTally()

    static func += (lhs: inout BudgetTally, rhs: BudgetTally) {
        lhs.requests += rhs.requests
        lhs.retries += rhs.retries
    }

    static func -= (lhs: inout BudgetTally, rhs: BudgetTally) {
        lhs.requests -= rhs.requests
        lhs.retries -= rhs.retries
    }
}

/// One retry budget as a pure state machine; time is a duration since an origin.
struct RetryBudgetStateMachine: Sendable {
    /// The number of buckets a ratio budget's window is split into.
    static let ratioBuckets = 10

    let configuration: RetryBudgetConfiguration
    private var milliTokens: Int64 = 0
    private let maxMilliTokens: Int64
    private let costMilli: Int64
    private let refundMilli: Int64
    private var window: TimeBucketWindow<BudgetTally>?
    private let ratio: Double
    private let floorRetries: Double
    /// Retries granted so far.
    private(set) var granted = 0
    /// Retries refused so far.
    private(set) var refused = 0

    init(configuration: RetryBudgetConfiguration) {
        self.configuration = configuration
        switch configuration {
        case .tokenBucket(let maxTokens, let cost, let refund):
            maxMilliTokens = Self.milli(maxTokens)
            costMilli = Self.milli(cost)
            refundMilli = Self.milli(refund)
            milliTokens = maxMilliTokens
            ratio = 0
            floorRetries = 0
        case .ratio(let ratio, let window, let minRetriesPerSecond):
            maxMilliTokens = 0
            costMilli = 0
            refundMilli = 0
            self.window = TimeBucketWindow(duration: window, bucketCount: Self.ratioBuckets)
            self.ratio = ratio
            floorRetries = minRetriesPerSecond * window.secondsDouble
        }
    }

    static func milli(_ tokens: Double) -> Int64 {
        Int64((tokens * 1000).rounded())
    }

    /// Notes a logical request's first attempt being sent at `now` (deposits for a ratio budget).
    mutating func recordRequest(now: Duration) {
        window?.add(BudgetTally(requests: 1, retries: 0), at: now)
    }

    /// Notes a successful attempt (refunds a token bucket).
    mutating func recordSuccess() {
        if refundMilli > 0 { milliTokens = min(maxMilliTokens, milliTokens + refundMilli) }
    }

    /// Asks for one retry at `now`; spends from the budget and returns true, or returns false when exhausted.
    mutating func tryWithdraw(now: Duration) -> Bool {
        if window != nil {
            let total = window!.total(at: now)
            let allowed = max(floorRetries, ratio * Double(total.requests))
            guard Double(total.retries + 1) <= allowed else {
                refused += 1
                return false
            }
            window!.add(BudgetTally(requests: 0, retries: 1), at: now)
        } else {
            guard milliTokens >= costMilli else {
                refused += 1
                return false
            }
            milliTokens -= costMilli
        }
        granted += 1
        return true
    }

    /// What is left: tokens for a token bucket, retries allowed right now for a ratio budget.
    mutating func available(now: Duration) -> Double {
        if window != nil {
            let total = window!.total(at: now)
            return max(0, max(floorRetries, ratio * Double(total.requests)) - Double(total.retries))
        }
        return Double(milliTokens) / 1000
    }
}
