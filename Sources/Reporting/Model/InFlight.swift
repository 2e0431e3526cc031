/// Counting requests in flight from their start and end times.
enum InFlight {
    /// The most intervals open at once. Intervals are half-open, `[start, end)`: one that ends when another starts
    /// does not overlap it, and an empty one (end ≤ start) is never in flight.
    static func peak(_ intervals: [(start: Int64, end: Int64)]) -> Int {
        let kept = intervals.filter { $0.end > $0.start }
        guard !kept.isEmpty else { return 0 }
        let starts = kept.map(\.start).sorted()
        let ends = kept.map(\.end).sorted()
        var open = 0
        var most = 0
        var next = 0
        for start in starts {
            // Close every interval that ended at or before this start.
            while next < ends.count, ends[next] <= start {
                open -= 1
                next += 1
            }
            open += 1
            most = max(most, open)
        }
        return most
    }
}
