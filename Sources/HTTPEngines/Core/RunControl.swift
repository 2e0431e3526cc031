import AsyncPatterns
import Synchronization

/// State shared by all workers of one run: the next logical request id, the stop flag, and the totals that
/// become the `EngineRunSummary`.
final class RunControl: Sendable {
    let configuration: EngineConfiguration
    let clock: RunClock
    /// Open loop: the arrival schedule, advanced under the lock as ids are handed out. Nil for the closed loop.
    private let schedule: Mutex<ArrivalSchedule?>
    private let isOpenLoop: Bool
    /// Run length by time: no request starts (closed loop) or is scheduled (open loop) after this, in ns.
    private let endNs: Int64
    let policy: any AttemptPolicy
    /// `policy.gate`, read once: every sent attempt holds it (see `RunControl+Drive`).
    let gate: (any AttemptGate)?
    let sink: any SampleSink

    private let nextID = Atomic<Int>(0)
    private let stopFlag = Atomic<Bool>(false)
    /// Run-clock time after which in-flight attempts are aborted; `Int64.max` until `stop` is called.
    private let abortAtNs = Atomic<Int64>(Int64.max)
    /// How long `stop` lets in-flight attempts finish before aborting them, in ns.
    let shutdownGraceNs: Int64
    private let completed = Atomic<Int>(0)
    private let maxLatenessNs = Atomic<Int64>(0)

    init(configuration: EngineConfiguration, policy: any AttemptPolicy, sink: any SampleSink) {
        self.configuration = configuration
        self.clock = RunClock()
        let origin = clock.now()
        let schedule = ArrivalSchedule(configuration, originNs: origin)
        self.isOpenLoop = schedule != nil
        self.schedule = Mutex(schedule)
        self.endNs = configuration.duration.map { origin + RunClock.nanoseconds($0) } ?? Int64.max
        self.policy = policy
        self.gate = policy.gate
        self.sink = sink
        self.shutdownGraceNs = RunClock.nanoseconds(configuration.shutdownGrace)
    }

    /// A request that a worker took from the shared queue.
    struct Ticket {
        /// The logical request id.
        var id: Int
        /// Open loop: the scheduled start in ns. Closed loop: nil (starts now).
        var scheduledNs: Int64?
    }

    /// Takes the next logical request id, or nil when all have been handed out or the run's time is up.
    func take() -> Ticket? {
        guard isOpenLoop else {
            guard endNs == Int64.max || clock.now() < endNs else { return nil }
            let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
            return id < configuration.totalRequests ? Ticket(id: id, scheduledNs: nil) : nil
        }
        return schedule.withLock { schedule -> Ticket? in
            let id = nextID.load(ordering: .relaxed)
            guard id < configuration.totalRequests, let scheduledNs = schedule?.next() else { return nil }
            guard scheduledNs < endNs else { return nil }
            nextID.store(id + 1, ordering: .relaxed)
            return Ticket(id: id, scheduledNs: scheduledNs)
        }
    }

    /// Starts the state machine for a ticket; `nowNs` is when the worker is ready to send it.
    func makeRequest(_ ticket: Ticket) -> LogicalRequest {
        LogicalRequest(
            requestID: Int64(ticket.id), intendedNs: ticket.scheduledNs ?? Int64.max,
            isWarmup: ticket.id < configuration.warmupRequests, policy: policy, sink: sink)
    }

    /// Whether the run is shutting down; requests not yet sent end as `.cancelled`.
    var isStopping: Bool { stopFlag.load(ordering: .relaxed) }

    /// Whether in-flight attempts must be aborted now: the run stopped more than the grace period ago.
    var isAborting: Bool { clock.now() >= abortAtNs.load(ordering: .relaxed) }

    /// Asks every worker to stop starting attempts; attempts in flight get the grace period, then are aborted.
    func stop() {
        let abortAt = clock.now() + shutdownGraceNs
        _ = abortAtNs.compareExchange(expected: Int64.max, desired: abortAt, ordering: .relaxed)
        stopFlag.store(true, ordering: .relaxed)
    }

    /// Records that a logical request reached its final sample.
    func finishedOne() { completed.wrappingAdd(1, ordering: .relaxed) }

    /// Records how late an open-loop request started behind its schedule, in ns.
    func recordLateness(_ ns: Int64) {
        var current = maxLatenessNs.load(ordering: .relaxed)
        while ns > current {
            let (exchanged, original) = maxLatenessNs.compareExchange(
                expected: current, desired: ns, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }

    /// The run's summary so far.
    func summary() -> EngineRunSummary {
        EngineRunSummary(
            completedRequests: completed.load(ordering: .relaxed),
            elapsed: .nanoseconds(clock.now()),
            maxLateness: .nanoseconds(maxLatenessNs.load(ordering: .relaxed)))
    }
}
