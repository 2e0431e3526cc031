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

/// The pending events, taken out by (time, sequence number): events at the same virtual time come out in the order
/// they were scheduled.
///
/// A calendar queue: virtual time is cut into buckets of 2^`bucketShift` ns. The current bucket's events sit in a
/// small min-heap (`near`); the next `ringSize - 1` buckets are unsorted lists in a ring, with a bitmap of the
/// non-empty ones; events further ahead wait in a second min-heap (`far`). Scheduling into a future bucket is a
/// push onto its list; when the current bucket runs dry, the next non-empty one (or the far heap's earliest bucket)
/// becomes current and its events go into `near`. Every event in `near` is earlier than every event elsewhere, so
/// the order is exactly the one a single heap keyed by (time, sequence) gives, while each heap stays small. Storage
/// grows to the most events pending at once and is then reused.
struct EventQueue {
    /// Buckets are 2^12 ns (about 4 µs) wide: a busy run holds a few events a bucket, so `near` stays small.
    private static let bucketShift: Int64 = 12
    /// Buckets in the ring (the current one included): 2^15, about 134 ms of virtual time.
    private static let ringSize = 1 << 15
    private static let ringMask = ringSize - 1

    /// The current bucket's events.
    private var near = EventHeap()
    /// Events at or beyond the ring's horizon when they were scheduled.
    private var far = EventHeap()
    /// The current bucket: `atNs >> bucketShift` of the events in `near`. It only moves forward.
    private var cursor: Int64 = 0
    /// Each ring slot's first node, or -1 when the slot is empty; slot `b & ringMask` holds bucket `b`'s events.
    private var heads: [Int32]
    /// One bit per ring slot: set when the slot holds events.
    private var occupied: [UInt64]
    /// Events held in the ring.
    private var ringCount = 0
    /// The ring's nodes: an event and the next node of its slot's list, 32 bytes each, two to a cache line.
    private var nodes: AlignedTable<RingNode>
    /// The first free node, or -1; free nodes are chained through their `next`.
    private var freeNode: Int32 = -1
    private var nextSequence: UInt32 = 0

    /// Events pending.
    private(set) var count = 0

    /// Creates a queue with room for `capacity` pending events.
    init(capacity: Int) {
        heads = Array(repeating: -1, count: Self.ringSize)
        occupied = Array(repeating: 0, count: Self.ringSize / 64)
        nodes = AlignedTable(capacity: capacity)
    }

    /// Whether no event is pending.
    var isEmpty: Bool { count == 0 }

    /// Schedules `kind` for `slot` at `atNs`.
    @inline(__always)
    mutating func schedule(_ kind: EventKind, atNs: Int64, slot: Int32, token: UInt32 = 0) {
        let event = Event(atNs: atNs, sequence: nextSequence, slot: slot, token: token, kind: kind)
        nextSequence &+= 1
        count += 1
        // Shifted times lie within ±2^49, so the difference cannot overflow.
        let ahead = (atNs >> Self.bucketShift) - cursor
        if ahead <= 0 {
            near.push(event)
        } else if ahead < Int64(Self.ringSize) {
            link(event, into: Int((atNs >> Self.bucketShift) & Int64(Self.ringMask)))
        } else {
            far.push(event)
        }
    }

    /// Removes and returns the earliest event, or nil when none is pending.
    @inline(__always)
    mutating func pop() -> Event? {
        if near.isEmpty {
            guard count > 0 else { return nil }
            advance()
        }
        count -= 1
        return near.popMin()
    }

    /// Puts `event` at the head of ring slot `slot`'s list.
    @inline(__always)
    private mutating func link(_ event: Event, into slot: Int) {
        let node: Int32
        if freeNode >= 0 {
            node = freeNode
            freeNode = nodes[Int(node)].next
            nodes[Int(node)] = RingNode(event: event, next: heads[slot])
        } else {
            node = Int32(nodes.count)
            nodes.append(RingNode(event: event, next: heads[slot]))
        }
        heads[slot] = node
        occupied[slot >> 6] |= 1 << UInt64(slot & 63)
        ringCount += 1
    }

    /// With `near` empty and events pending: makes the earliest bucket holding events current and moves its events,
    /// from the ring and from the far heap, into `near`.
    private mutating func advance() {
        var next = Int64.max
        var slot = -1
        if ringCount > 0 {
            // The ring's buckets follow the current one: slot `start` is bucket `cursor + 1`.
            let start = Int((cursor + 1) & Int64(Self.ringMask))
            slot = nextOccupiedSlot(from: start)
            next = cursor + 1 + Int64((slot - start) & Self.ringMask)
        }
        if let earliest = far.first {
            let bucket = earliest.atNs >> Self.bucketShift
            if bucket < next {
                next = bucket
                slot = -1
            }
        }
        cursor = next
        if slot >= 0 { drain(slot) }
        while let earliest = far.first, earliest.atNs >> Self.bucketShift == cursor {
            near.push(far.popMin()!)
        }
    }

    /// The first non-empty ring slot from `start` on, wrapping round; the ring holds events.
    private func nextOccupiedSlot(from start: Int) -> Int {
        let words = Self.ringSize / 64
        var word = start >> 6
        var bits = occupied[word] & (~0 << UInt64(start & 63))
        var scanned = 0
        while bits == 0 {
            word = (word + 1) & (words - 1)
            bits = occupied[word]
            scanned += 1
            if scanned == words {
                // Back at the start word: the bits before `start`, the ring's last buckets.
                bits &= (1 << UInt64(start & 63)) &- 1
                break
            }
        }
        return word << 6 | bits.trailingZeroBitCount
    }

    /// Moves ring slot `slot`'s events into `near` and frees their nodes.
    private mutating func drain(_ slot: Int) {
        var node = heads[slot]
        heads[slot] = -1
        occupied[slot >> 6] &= ~(1 << UInt64(slot & 63))
        while node >= 0 {
            near.push(nodes[Int(node)].event)
            let next = nodes[Int(node)].next
            nodes[Int(node)].next = freeNode
            freeNode = node
            node = next
            ringCount -= 1
        }
    }
}

/// A ring node: an event, and the next node of its ring slot's list (or of the free list), -1 at the end.
struct RingNode {
    var event: Event
    var next: Int32
}

/// A 4-ary min-heap of events keyed by (time, sequence number). Storage grows to the most events held at once and is
/// then reused: pushing and popping allocate nothing.
struct EventHeap {
    private var heap: [Event] = []

    /// Whether it holds no event.
    var isEmpty: Bool { heap.isEmpty }

    /// The earliest event, left in place, or nil when empty.
    var first: Event? { heap.first }

    /// Adds `event`.
    @inline(__always)
    mutating func push(_ event: Event) {
        heap.append(event)
        heap.withUnsafeMutableBufferPointer { buffer in Self.place(event, at: buffer.count - 1, in: buffer) }
    }

    /// Removes and returns the earliest event, or nil when empty.
    @inline(__always)
    mutating func popMin() -> Event? {
        guard let last = heap.popLast() else { return nil }
        guard !heap.isEmpty else { return last }
        let first = heap[0]
        refill(with: last)
        return first
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
