/// Open-loop retries waiting out their backoff without holding a worker: a min-heap of logical requests keyed by
/// the run-clock time (ns) their next attempt is due, first parked first out among equal times.
struct ParkedRequests {
    private struct Entry {
        var dueNs: Int64
        var sequence: Int
        var request: LogicalRequest

        func precedes(_ other: Entry) -> Bool {
            (dueNs, sequence) < (other.dueNs, other.sequence)
        }
    }

    private var heap: [Entry] = []
    private var nextSequence = 0

    /// How many requests are parked.
    var count: Int { heap.count }

    /// When the earliest parked request is due, in ns; nil when none is parked.
    var earliestDueNs: Int64? { heap.first?.dueNs }

    /// Parks `request` until `dueNs`.
    mutating func insert(_ request: LogicalRequest, dueNs: Int64) {
        heap.append(Entry(dueNs: dueNs, sequence: nextSequence, request: request))
        nextSequence += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest parked request and when it is due, or nil when none is parked.
    mutating func popEarliest() -> (request: LogicalRequest, dueNs: Int64)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let entry = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var first = parent
            if left < heap.count && heap[left].precedes(heap[first]) { first = left }
            if right < heap.count && heap[right].precedes(heap[first]) { first = right }
            guard first != parent else { break }
            heap.swapAt(parent, first)
            parent = first
        }
        return (entry.request, entry.dueNs)
    }
}
