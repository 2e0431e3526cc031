/// What happens at an event, and to whom.
enum EventKind: UInt8 {
    /// Open loop: the next scheduled arrival is due.
    case arrival
    /// A logical request's next attempt is due (a retry's backoff ended, or a parked request got a worker).
    case begin
    /// The client sees the end of an attempt (a response, a reset or its timeout).
    case attemptEnd
    /// Capacity model: an attempt reaches the server.
    case serverArrive
    /// Capacity model: a request's service ends and its slot frees.
    case serviceEnd
    /// Capacity model: an attempt's timeout fires at the client.
    case timeout
    /// Limiter: an attempt's wait for a permit times out.
    case gateTimeout
}

/// One scheduled event: a kind, the slot it concerns (a request slot or a server job) and the attempt token it was
/// scheduled for, so that an event outlived by its attempt is recognised and dropped.
struct Event {
    /// When it happens, in virtual ns.
    var atNs: Int64
    /// Scheduling order: breaks ties between events at the same time, so the order is deterministic (it wraps after
    /// 2^32 events, which keeps it deterministic). 32 bits keep an event at 24 bytes.
    var sequence: UInt32
    var slot: Int32
    var token: UInt32
    var kind: EventKind

    @inline(__always)
    func precedes(_ other: Event) -> Bool {
        atNs < other.atNs || (atNs == other.atNs && sequence < other.sequence)
    }
}

/// A 4-ary min-heap of events keyed by (time, sequence number): events at the same virtual time come out in the
/// order they were scheduled. Storage grows to the most events pending at once and is then reused: scheduling and
/// popping allocate nothing.
struct EventQueue {
    private var heap: [Event] = []
    private var nextSequence: UInt32 = 0

    /// Creates a queue with room for `capacity` pending events.
    init(capacity: Int) {
        heap.reserveCapacity(capacity)
    }

    /// Whether no event is pending.
    var isEmpty: Bool { heap.isEmpty }

    /// Events pending.
    var count: Int { heap.count }

    /// Schedules `kind` for `slot` at `atNs`.
    @inline(__always)
    mutating func schedule(_ kind: EventKind, atNs: Int64, slot: Int32, token: UInt32 = 0) {
        let event = Event(atNs: atNs, sequence: nextSequence, slot: slot, token: token, kind: kind)
        nextSequence &+= 1
        heap.append(event)
        siftUp(heap.count - 1)
    }

    /// Removes and returns the earliest event, or nil when none is pending.
    @inline(__always)
    mutating func pop() -> Event? {
        guard let last = heap.popLast() else { return nil }
        guard !heap.isEmpty else { return last }
        let first = heap[0]
        refill(with: last)
        return first
    }

    private mutating func siftUp(_ start: Int) {
        heap.withUnsafeMutableBufferPointer { buffer in Self.place(buffer[start], at: start, in: buffer) }
    }

    /// Puts `moving` in the hole at `start`, or as far up as it precedes its parents, moving them down.
    @inline(__always)
    private static func place(_ moving: Event, at start: Int, in buffer: UnsafeMutableBufferPointer<Event>) {
        var index = start
        while index > 0 {
            let parent = (index - 1) >> 2
            guard moving.precedes(buffer[parent]) else { break }
            buffer[index] = buffer[parent]
            index = parent
        }
        buffer[index] = moving
    }

    /// Fills the hole at the root with `moving` (Floyd's bottom-up way): walks the hole down to a leaf along the
    /// earliest child, then sifts `moving` up from there, usually not far. Four children a node halve the depth.
    private mutating func refill(with moving: Event) {
        heap.withUnsafeMutableBufferPointer { buffer in
            let count = buffer.count
            var index = 0
            while true {
                let first = 4 * index + 1
                guard first < count else { break }
                var child = first
                let end = min(first + 4, count)
                var next = first + 1
                while next < end {
                    if buffer[next].precedes(buffer[child]) { child = next }
                    next += 1
                }
                buffer[index] = buffer[child]
                index = child
            }
            Self.place(moving, at: index, in: buffer)
        }
    }
}
