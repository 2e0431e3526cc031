import AsyncPatterns
import HTTPEngines
import MockServer

/// The simulation's state and its event loop. A value type driven on one thread: `run()` pops events in
/// (time, sequence) order, advances the virtual clock, and carries each out; workers freed on the way poll for
/// their next request in a FIFO, never by recursion. The client side lives in `Simulator+Clients` and
/// `Simulator+Attempts`, the capacity model in `Simulator+Server`.
struct Simulator {
    let configuration: EngineConfiguration
    let server: ServerModel
    let policy: ResiliencePolicy<VirtualClock>?
    /// `policy`, called without a retain and a release around every call (they were 8% of the run's time): the
    /// simulator holds `policy` for its whole life.
    let unretainedPolicy: Unmanaged<ResiliencePolicy<VirtualClock>>?
    let clock: VirtualClock
    /// Network time from client to server and back, per attempt.
    let network: NetworkModel
    /// The per-attempt timeout, in ns.
    let timeoutNs: Int64
    let isOpenLoop: Bool
    /// Worker loops, as the engines count them.
    let workers: Int
    /// Warm-up requests, ids `0..<warmupTotal`: `max(warmupRequests, workers)`, or 0 without warm-up.
    let warmupTotal: Int
    /// Closed loop with a minimum measured duration: that duration in ns.
    let minimumMeasuredNs: Int64?
    /// Whether an attempt's service is events (its arrival, its end, its timeout): with the capacity model, or for
    /// contention writes, whose outcome depends on the writes that end during their service. Otherwise an attempt's
    /// whole fate is known when it is sent, and it takes one event.
    let servesByEvents: Bool
    /// The interned key of the run's `/contention/{key}` endpoint, or -1 for another endpoint.
    let contentionKey: Int32

    var queue: EventQueue
    var nowNs: Int64 = 0
    var slots: AlignedTable<RequestSlot>
    var freeSlots: [Int32] = []
    var samples: [AttemptSample] = []
    var eventsProcessed = 0
    /// Hashes request ids as the server hashes their `X-Request-Id` text; ids come in order, so mostly one step.
    var idHasher = StableHash.DecimalHasher()

    // Workers and the warm-up barrier.
    var warmedUp: [Bool]
    var warmedWorkers = 0
    var warmupTaken = 0
    var warmupFinished = 0
    var barrierOpen = false
    var barrierWaiters: [Int32] = []
    /// Workers that are free and have yet to poll for work, in the order they were freed.
    var pendingWorkers = FIFO<Int32>()
    /// Open loop: workers with nothing to run.
    var idleWorkers: [Int32] = []
    /// Open loop: requests due (an arrival, or a retry whose backoff ended) waiting for a worker, in due order.
    var ready = FIFO<Int32>()

    // The measured phase.
    var measuredOriginNs: Int64 = 0
    var measuredEndNs: Int64 = .max
    var nextMeasured = 0
    var schedule: ArrivalSchedule?
    var arrivalsTaken = 0
    var completed = 0
    /// When the last logical request got its final sample, in ns: the run's end (later events are stale timeouts).
    var lastFinishNs: Int64 = 0
    var maxLatenessNs: Int64 = 0

    // The policy's concurrency limiter (the library's own), and the attempts waiting for a permit, in order.
    let limiter: ConcurrencyLimiter<VirtualClock>?
    let acquireTimeoutNs: Int64?
    var gateWaiters = FIFO<(slot: Int32, token: UInt32)>()
    var gateWaits = 0
    var gateTimeouts = 0

    // The server's capacity model.
    var jobs: [ServerJob] = []
    var freeJobs: [Int32] = []
    var serverQueue = FIFO<Int32>()
    var inService = 0
    var contention = ContentionStore()
    var serverCounters = SimulatedServerCounters()

    /// The most measured requests a closed loop with a minimum measured duration hands out (as the engines).
    static let measuredRequestCap = 10_000_000

    init(
        configuration: EngineConfiguration, server: ServerModel, policy: ResiliencePolicy<VirtualClock>?,
        clock: VirtualClock, network: NetworkModel, contentionKey: String?
    ) {
        self.configuration = configuration
        self.server = server
        self.policy = policy
        unretainedPolicy = policy.map(Unmanaged.passUnretained)
        self.clock = clock
        self.network = network
        var store = ContentionStore()
        self.contentionKey = contentionKey.map { store.intern($0) } ?? -1
        contention = store
        timeoutNs = VirtualClock.nanoseconds(configuration.requestTimeout)
        isOpenLoop = configuration.load != .closed
        if configuration.load == .closed, configuration.minimumMeasuredDuration != nil {
            workers = configuration.concurrency
        } else {
            workers = min(configuration.concurrency, max(1, configuration.totalRequests))
        }
        warmupTotal = configuration.warmupRequests > 0 ? max(configuration.warmupRequests, workers) : 0
        minimumMeasuredNs =
            configuration.load == .closed ? configuration.minimumMeasuredDuration.map(VirtualClock.nanoseconds) : nil
        servesByEvents = server.limit > 0 || self.contentionKey >= 0
        limiter = policy?.limiter
        acquireTimeoutNs = policy?.configuration.limiter?.acquireTimeout.map(VirtualClock.nanoseconds)
        queue = EventQueue(capacity: 2 * workers + 16)
        warmedUp = Array(repeating: false, count: workers)
        slots = AlignedTable(capacity: workers)
        samples.reserveCapacity(min(configuration.totalRequests + configuration.totalRequests / 2, 1 << 23))
        HugePages.advise(&samples)
    }

    /// Runs the simulation to its end: every logical request handed out has its final sample.
    mutating func run() {
        if warmupTotal == 0 { openBarrier() }
        for worker in 0..<workers { pendingWorkers.push(Int32(worker)) }
        pollPendingWorkers()
        // Only the policy reads the clock. Unretained: `self.clock` holds it, and a strong local was retained and
        // released around every advance.
        let clock = policy != nil ? Unmanaged.passUnretained(self.clock) : nil
        while let event = queue.pop() {
            eventsProcessed += 1
            if event.atNs != nowNs {
                nowNs = event.atNs
                clock?._withUnsafeGuaranteedRef { $0.advance(toNanoseconds: event.atNs) }
            }
            switch event.kind {
            case .attemptEnd: attemptEndEvent(slot: event.slot, token: event.token)
            case .begin: beginEvent(slot: event.slot)
            case .arrival: arrivalEvent()
            case .serverArrive: serverArrive(job: event.slot)
            case .serviceEnd: serviceEnd(job: event.slot)
            case .timeout: timeoutEvent(slot: event.slot, token: event.token)
            case .gateTimeout: gateTimeoutEvent(slot: event.slot, token: event.token)
            }
            pollPendingWorkers()
        }
    }

    /// The run's summary so far, as an engine reports it.
    func summary() -> EngineRunSummary {
        EngineRunSummary(
            completedRequests: completed, elapsed: .nanoseconds(lastFinishNs), maxLateness: .nanoseconds(maxLatenessNs),
            warmupRequests: warmupTaken, measuredRequests: isOpenLoop ? arrivalsTaken : nextMeasured)
    }
}

/// One logical request in flight, or parked in its backoff: 64 bytes, one cache line in an `AlignedTable`. Slots are
/// reused; `token` only grows, so an event scheduled for an earlier attempt (or an earlier request in the slot) never
/// matches again.
struct RequestSlot {
    var requestID: Int64 = 0
    /// `StableHash.hash` of the request id text, as the mock server computes it from `X-Request-Id`.
    var idHash: UInt64 = 0
    var intendedNs: Int64 = 0
    var startNs: Int64 = 0
    var endNs: Int64 = 0
    var attempt: Int32 = 1
    var token: UInt32 = 0
    /// The worker running it, or -1 while parked (open loop) or waiting for a worker.
    var worker: Int32 = -1
    var status: Int32 = 0
    var retryAfterSeconds: Int32 = -1
    var errorClass: ErrorClass = .ok
    var isWarmup = false
    /// Whether the current attempt is sent and its end not yet seen.
    var awaiting = false
    /// Whether the current attempt waits for a limiter permit.
    var waitingForGate = false
}

/// An attempt at the server served by events, from its arrival to its answer (which outlives a client that gave up).
struct ServerJob {
    var slot: Int32
    var token: UInt32
    var attempt: Int32
    var idHash: UInt64
    /// The attempt's network time from the server back to the client, in ns.
    var downNs: Int64
    /// The interned contention key it writes, or -1.
    var key: Int32 = -1
    /// Its service, drawn on arrival under the phase then in force (as the live server fixes its plan on arrival).
    var service = ServerModel.Service(fault: nil, delayNs: 0)
    /// A contention write: where its commit stands.
    var write = ContentionStore.Outcome.none
    /// A contention write: the key's version when its service started.
    var seenVersion: UInt64 = 0
}

/// A first-in, first-out queue: a ring over storage that grows to the most entries held at once and is then reused
/// (cells past the entries keep stale copies).
struct FIFO<Element> {
    private var storage: [Element] = []
    /// Where the first entry is.
    private var head = 0

    /// Entries waiting.
    private(set) var count = 0

    @inline(__always)
    mutating func push(_ element: Element) {
        guard count < storage.count else {
            // Full: unroll the ring so that it starts at 0, then grow it.
            if head > 0 {
                storage = Array(storage[head...]) + storage[..<head]
                head = 0
            }
            storage.append(element)
            count += 1
            return
        }
        let tail = head + count
        storage[tail < storage.count ? tail : tail - storage.count] = element
        count += 1
    }

    /// The entry `pop()` would return, left in place.
    var first: Element? { count > 0 ? storage[head] : nil }

    @inline(__always)
    mutating func pop() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        head = head + 1 < storage.count ? head + 1 : 0
        count -= 1
        return element
    }
}
