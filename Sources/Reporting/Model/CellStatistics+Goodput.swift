import LabStore

/// Goodput over time and recovery after a trigger (the `metastable` experiment): successful final outcomes per
/// 100 ms of their end time, and what the `recovery_s` metric and the `metastable-recovery` analysis read from them.
extension CellStatistics {
    /// The width of a goodput bucket, ns (100 ms).
    static let goodputBucketNs: Int64 = 100_000_000
    /// The most goodput buckets a cell keeps (10 minutes); successes ending later are not counted in the series.
    static let goodputBucketLimit = 6_000
    /// The window whose goodput must come back for a cell to count as recovered, ns (1 s).
    static let recoveryWindowNs: Int64 = 1_000_000_000
    /// The share of its level before the trigger that a window's goodput must reach to count as recovered.
    static let recoveryShare = 0.9
    /// Where the level before the trigger is measured from, ns after the cell's start (1 s: past the start-up).
    static let levelFromNs: Int64 = 1_000_000_000
    /// The span at the end of the cell whose goodput tells whether it stayed collapsed, ns (2 s).
    static let tailNs: Int64 = 2_000_000_000
    /// A cell stayed collapsed when its goodput over the last `tailNs` is below this share of its level before
    /// the trigger.
    static let collapsedShare = 0.5

    /// Counts one successful final outcome that ended at `endNs` (ns since the cell's start).
    mutating func recordGoodput(endNs: Int64) {
        guard endNs >= 0 else { return }
        let index = Int(endNs / Self.goodputBucketNs)
        guard index < Self.goodputBucketLimit else { return }
        if index >= goodputBuckets.count {
            goodputBuckets.append(contentsOf: repeatElement(0, count: index - goodputBuckets.count + 1))
        }
        goodputBuckets[index] &+= 1
    }

    /// Successful requests per second over the buckets `from..<to` (bucket indices; missing buckets count 0);
    /// NaN for an empty range.
    func goodput(buckets range: Range<Int>) -> Double {
        guard !range.isEmpty else { return .nan }
        var total = 0.0
        for index in range where index >= 0 && index < goodputBuckets.count { total += Double(goodputBuckets[index]) }
        return total / (Double(range.count) * Double(Self.goodputBucketNs) / 1e9)
    }

    /// The trigger of the server's schedule, from the cell's `injected_error_rate` events (one at the start of each
    /// phase, `detail` the phase's name): the start of the phase named "trigger" and the start of the phase after
    /// it, ns since the cell's start; nil without such a phase or without a phase after it.
    static func trigger(_ events: [EventRecord]) -> (startNs: Int64, endNs: Int64)? {
        let phases = events.filter { $0.kind == .injectedErrorRate }.sorted { $0.tNs < $1.tNs }
        guard let index = phases.firstIndex(where: { $0.detail == "trigger" }),
            let next = phases[(index + 1)...].first(where: { $0.tNs > phases[index].tNs })
        else { return nil }
        return (phases[index].tNs, next.tNs)
    }

    /// What a cell's goodput did around the trigger of the server's schedule.
    struct Recovery: Sendable {
        /// The trigger's start and end, ns since the cell's start.
        var triggerStartNs: Int64
        var triggerEndNs: Int64
        /// Mean goodput from 1 s to the trigger's start, successful requests/s; NaN when the trigger starts by 1 s.
        var before: Double
        /// Goodput over the last 2 s of the offered load (ending at the last first attempt's send), requests/s.
        var tail: Double
        /// The end of the offered load: the last first attempt's send, ns since the cell's start.
        var loadEndNs: Int64
        /// From the trigger's end to the end of the first 1 s window whose goodput reached 90% of `before`, s;
        /// NaN when none did before the last sample ended.
        var seconds: Double

        /// Whether a window's goodput came back to 90% of its level before the trigger.
        var recovered: Bool { seconds.isFinite }
        /// Whether there was goodput before the trigger to come back to.
        var hasLevel: Bool { before > 0 }
        /// Whether goodput over the last 2 s stayed below half its level before the trigger.
        var collapsed: Bool { before > 0 && tail < CellStatistics.collapsedShare * before }
    }

    /// The cell's recovery after the trigger; nil when its events name no trigger phase followed by another. Without
    /// successes before the trigger there is no level to come back to: `before` is 0 and `seconds` NaN.
    ///
    /// Windows of 1 s slide in steps of one 100 ms bucket. The first starts at the bucket boundary nearest the
    /// trigger's end, so a recovery time is exact to within 50 ms. A window counts only when it ends by the last
    /// sample's end (a window past it would be cut short).
    func recovery(events: [EventRecord]) -> Recovery? {
        guard let trigger = Self.trigger(events) else { return nil }
        let bucket = Self.goodputBucketNs
        let levelFrom = Int(Self.levelFromNs / bucket)
        let levelTo = Int(trigger.startNs / bucket)
        let before = goodput(buckets: levelFrom..<max(levelFrom, levelTo))
        let width = Int(Self.recoveryWindowNs / bucket)
        let first = Int((trigger.endNs + bucket / 2) / bucket)
        let lastEnd = min(lastEndNs, Int64(Self.goodputBucketLimit) * bucket)
        var seconds = Double.nan
        var start = first
        while before > 0, Int64(start + width) * bucket <= lastEnd {
            if goodput(buckets: start..<(start + width)) >= Self.recoveryShare * before {
                seconds = Double(Int64(start + width) * bucket - trigger.endNs) / 1e9
                break
            }
            start += 1
        }
        // The end of the offered load: the last first attempt's send, else the last end.
        let loadEnd = lastSendNs > Int64.min ? lastSendNs : lastEndNs
        let tailTo = Int(min(loadEnd, Int64(Self.goodputBucketLimit) * bucket) / bucket)
        let tail = goodput(buckets: max(0, tailTo - Int(Self.tailNs / bucket))..<tailTo)
        return Recovery(
            triggerStartNs: trigger.startNs, triggerEndNs: trigger.endNs, before: before, tail: tail,
            loadEndNs: loadEnd, seconds: seconds)
    }

    /// The share of the server's requests that it served after their client had given up (`wasted` over
    /// `requests` in its counters); nil without a `wasted` count or without requests.
    var wastedShare: Double? {
        guard let server = cell.server, let counters = JSONValue.parse(server.countersJSON),
            let wasted = counters["wasted"]?.numberValue
        else { return nil }
        let requests = counters["requests"]?.numberValue ?? Double(server.requests)
        return requests > 0 ? wasted / requests : nil
    }
}
