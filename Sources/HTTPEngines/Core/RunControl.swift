import AsyncPatterns
import Synchronization

/// State shared by all workers of one run: which logical request each worker takes next, the barrier between the
/// warm-up and the measured phase, open-loop retries parked during their backoff, the stop flag, and the totals
/// that become the `EngineRunSummary`.
///
/// A run has two phases. The warm-up hands ids `0..<warmupTotal` out so that every worker gets at least one, and a
/// worker with no warm-up left to take waits until every warm-up request has its final sample. Then the barrier
/// opens and the measured phase begins: its clock (the open-loop schedule, the `duration` end, the minimum measured
/// duration) starts at that moment. Taking tickets lives in `RunControl+Take`, running them in `RunControl+Drive`.
final class RunControl: Sendable {
    let configuration: EngineConfiguration
    let clock: RunClock
    /// How many worker loops the engine runs; each must call `take` until it returns nil.
    let workers: Int
    /// Warm-up logical requests, ids `0..<warmupTotal`: `max(warmupRequests, workers)`, or 0 without warm-up.
    let warmupTotal: Int
    /// Whether the load model is an open loop (a schedule of arrivals) rather than the closed loop.
    let isOpenLoop: Bool
    /// Closed loop with a minimum measured duration: that duration in ns. Nil otherwise.
    let minimumMeasuredNs: Int64?
    let policy: any AttemptPolicy
    /// `policy.gate`, read once: every sent attempt holds it (see `RunControl+Drive`).
    let gate: (any AttemptGate)?
    let sink: any SampleSink
    /// How long `stop` lets in-flight attempts finish before aborting them, in ns.
    let shutdownGraceNs: Int64

    /// The most measured requests a closed loop with a minimum measured duration hands out.
    static let measuredRequestCap = 10_000_000

    /// What workers share under the lock: the warm-up phase, the open loop's arrivals and parked retries, and the
    /// workers waiting for a change.
    struct State {
        /// Warm-up ids handed out, from 0.
        var warmupTaken = 0
        /// Workers that have taken at least one warm-up request.
        var warmedWorkers = 0
        /// Warm-up requests that reached their final sample.
        var warmupFinished = 0
        /// Whether the measured phase has begun.
        var barrierOpen = false
        /// The process's CPU seconds (user plus system) when the measured phase began.
        var measuredCPUStart: Double?
        /// Open loop: the arrival schedule from the barrier on. Nil before, and for the closed loop.
        var schedule: ArrivalSchedule?
        /// Open loop: the next arrival, drawn from `schedule` but not yet handed out, in ns.
        var pendingArrivalNs: Int64?
        /// Open loop: measured arrivals handed out.
        var arrivalsTaken = 0
        /// Open loop: whether every arrival has been handed out (the count is reached or the time is up).
        var arrivalsEnded = false
        /// Open loop: retries waiting out their backoff.
        var parked = ParkedRequests()
        /// Open loop: measured requests a worker holds (taken, and neither finished nor parked).
        var inFlight = 0
        /// Bumped on every change a waiting worker may be waiting for.
        var generation: UInt64 = 0
        /// Threads blocked in `waitBlocking`.
        var blockingWaiters = 0
        /// Tasks suspended in `waitAsync`, by token.
        var asyncWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiterToken = 0

        /// Records a change and returns the waiters to wake once the lock is released.
        mutating func changed() -> Wake {
            generation &+= 1
            guard !asyncWaiters.isEmpty || blockingWaiters > 0 else { return .none }
            let tasks = Array(asyncWaiters.values)
            asyncWaiters.removeAll()
            return Wake(tasks: tasks, threads: blockingWaiters > 0)
        }
    }

    /// Waiters to wake after a change: tasks to resume, and whether any thread waits on `changedCondition`.
    struct Wake {
        var tasks: [CheckedContinuation<Void, Never>] = []
        var threads = false

        /// Nobody to wake.
        static let none = Wake()
    }

    /// The shared state, with one condition (`changedCondition`) where blocked threads wait for
    /// `State.generation` to change.
    let state: LockedBox<State>
    static var changedCondition: Int { 0 }
    /// Run-clock time the measured phase began, in ns; written under the lock when the barrier opens.
    let measuredOriginNs = Atomic<Int64>(0)
    /// Run length by time: no measured request starts (closed loop) or is scheduled (open loop) after this, in ns.
    let measuredEndNs = Atomic<Int64>(Int64.max)
    /// Closed loop: measured requests handed out (the next is id `warmupTotal + nextMeasured`).
    let nextMeasured = Atomic<Int>(0)
    private let stopFlag = Atomic<Bool>(false)
    /// Run-clock time after which in-flight attempts are aborted; `Int64.max` until `stop` is called.
    private let abortAtNs = Atomic<Int64>(Int64.max)
    private let completed = Atomic<Int>(0)
    private let maxLatenessNs = Atomic<Int64>(0)

    /// Shares one run among `workers` worker loops.
    init(configuration: EngineConfiguration, workers: Int, policy: any AttemptPolicy, sink: any SampleSink) {
        precondition(workers >= 1, "a run needs at least one worker")
        self.configuration = configuration
        self.clock = RunClock()
        self.workers = workers
        self.warmupTotal = configuration.warmupRequests > 0 ? max(configuration.warmupRequests, workers) : 0
        self.isOpenLoop = configuration.load != .closed
        self.minimumMeasuredNs =
            configuration.load == .closed ? configuration.minimumMeasuredDuration.map(RunClock.nanoseconds) : nil
        self.policy = policy
        self.gate = policy.gate
        self.sink = sink
        self.shutdownGraceNs = RunClock.nanoseconds(configuration.shutdownGrace)
        self.state = LockedBox(State(), conditions: 1)
        if warmupTotal == 0 {
            // No warm-up: the measured phase begins with the run.
            state.withLock { openBarrier(&$0, atNs: clock.now()) }
        }
    }

    /// The worker loops an engine runs for `configuration`: `concurrency`, but no more than the requests
    /// configured, except for a closed loop with a minimum measured duration, which may run more requests.
    static func workerCount(for configuration: EngineConfiguration) -> Int {
        if configuration.load == .closed, configuration.minimumMeasuredDuration != nil {
            return configuration.concurrency
        }
        return min(configuration.concurrency, max(1, configuration.totalRequests))
    }

    /// Opens the barrier at `nowNs`: the measured phase, its schedule and its end time start now.
    private func openBarrier(_ state: inout State, atNs nowNs: Int64) {
        guard !state.barrierOpen else { return }
        measuredOriginNs.store(nowNs, ordering: .relaxed)
        measuredEndNs.store(
            configuration.duration.map { nowNs &+ RunClock.nanoseconds($0) } ?? Int64.max, ordering: .relaxed)
        state.schedule = ArrivalSchedule(configuration, originNs: nowNs)
        state.measuredCPUStart = ResourceUsage.current().cpuSeconds
        state.barrierOpen = true
    }

    /// Whether the run is shutting down; requests not yet sent end as `.cancelled`.
    var isStopping: Bool { stopFlag.load(ordering: .relaxed) }

    /// Whether in-flight attempts must be aborted now: the run stopped more than the grace period ago.
    var isAborting: Bool { clock.now() >= abortAtNs.load(ordering: .relaxed) }

    /// Asks every worker to stop starting attempts; attempts in flight get the grace period, then are aborted.
    /// Opens the barrier and wakes every waiting worker, so that the remaining requests end as `.cancelled`.
    func stop() {
        let abortAt = clock.now() + shutdownGraceNs
        _ = abortAtNs.compareExchange(expected: Int64.max, desired: abortAt, ordering: .relaxed)
        stopFlag.store(true, ordering: .relaxed)
        let wake = state.withLock { state -> Wake in
            openBarrier(&state, atNs: clock.now())
            return state.changed()
        }
        wakeWaiters(wake)
    }

    /// Records that a logical request reached its final sample: the last warm-up one opens the barrier.
    func finished(_ request: LogicalRequest) {
        completed.wrappingAdd(1, ordering: .relaxed)
        if request.isWarmup {
            let wake = state.withLock { state -> Wake in
                state.warmupFinished += 1
                guard state.warmupFinished == warmupTotal else { return .none }
                openBarrier(&state, atNs: clock.now())
                return state.changed()
            }
            wakeWaiters(wake)
        } else if isOpenLoop {
            let wake = state.withLock { state -> Wake in
                state.inFlight -= 1
                // Idle workers wait at the end of the schedule while a request in flight may still park a retry.
                return state.inFlight == 0 ? state.changed() : .none
            }
            wakeWaiters(wake)
        }
    }

    /// Open loop: parks a measured request whose next attempt is due at `dueNs`, freeing its worker.
    func park(_ request: LogicalRequest, untilNs dueNs: Int64) {
        let wake = state.withLock { state -> Wake in
            state.parked.insert(request, dueNs: dueNs)
            state.inFlight -= 1
            return state.changed()
        }
        wakeWaiters(wake)
    }

    /// Resumes the tasks and wakes the threads that `State.changed` returned.
    func wakeWaiters(_ wake: Wake) {
        for task in wake.tasks { task.resume() }
        if wake.threads { state.broadcast(Self.changedCondition) }
    }

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
        let (warmup, arrivals, cpuStart) = state.withLock { ($0.warmupTaken, $0.arrivalsTaken, $0.measuredCPUStart) }
        return EngineRunSummary(
            completedRequests: completed.load(ordering: .relaxed),
            elapsed: .nanoseconds(clock.now()),
            maxLateness: .nanoseconds(maxLatenessNs.load(ordering: .relaxed)),
            warmupRequests: warmup,
            measuredRequests: isOpenLoop ? arrivals : nextMeasured.load(ordering: .relaxed), origin: clock.origin,
            measuredCPUSeconds: cpuStart.map { ResourceUsage.current().cpuSeconds - $0 })
    }
}
