/// Samples the scheduling lag of the Swift concurrency pool, or of any executor, while a run is going.
///
/// On the pool, a task sleeps `interval` on `ContinuousClock` and records how late it woke. On an executor
/// given as a "schedule this closure" function (for a NIO event loop: `{ body in eventLoop.execute(body) }`),
/// a task waits `interval`, hands the executor a closure and records how long it took to start. Each monitor
/// measures one target; the series (for storing as events) and a summary (max, p95) are kept. About one
/// wake-up per interval; the lock is held for an append.
public final class LagMonitor: Sendable {
    /// How often and how much a `LagMonitor` measures.
    public struct Configuration: Sendable, Hashable {
        /// Time between measurements. Must be > 0. Default 10 ms.
        public var interval: Duration
        /// Most samples kept, both for the series until drained and for the p95; later ones still count in
        /// `count`, `max` and the mean. Default 100,000.
        public var capacity: Int

        /// Creates a configuration; every argument has the default listed on its property.
        public init(interval: Duration = .milliseconds(10), capacity: Int = 100_000) {
            self.interval = interval
            self.capacity = capacity
        }

        /// 10 ms interval, 100,000 samples kept.
        public static var `default`: Configuration { Configuration() }
    }

    private struct State {
        var pending: [LagSample] = []
        var lags: [Int64] = []
        var count = 0
        var maxNs: Int64 = 0
        var sumNs: Double = 0
        var task: Task<Void, Never>?
        var stopped = false
    }

    /// The configuration the monitor was built with.
    public let configuration: Configuration
    /// Time zero of the series (e.g. the cell's start).
    public let origin: ContinuousClock.Instant
    private let state = LockedBox(State())

    /// Creates a monitor; nothing is measured until `start` or a `run` method.
    ///
    /// Precondition: `interval > 0`, `capacity >= 1`.
    public init(configuration: Configuration = .default, origin: ContinuousClock.Instant = .now) {
        precondition(configuration.interval > .zero, "LagMonitor: interval must be positive")
        precondition(configuration.capacity >= 1, "LagMonitor: capacity must be at least 1")
        self.configuration = configuration
        self.origin = origin
    }

    // MARK: Running

    /// Measures the Swift concurrency pool until the calling task is cancelled or `stop()` is called.
    public func runOnConcurrencyPool() async {
        let clock = ContinuousClock()
        while !Task.isCancelled && !isStopped {
            let deadline = clock.now.advanced(by: configuration.interval)
            do {
                try await Task.sleep(until: deadline, clock: clock)
            } catch {
                return
            }
            let now = clock.now
            measured(at: now, lag: deadline.duration(to: now))
        }
    }

    /// Measures an executor until the calling task is cancelled or `stop()` is called. `schedule` must run its
    /// argument on the executor once, soon; the lag is the time from handing it over to its start. If the executor
    /// never runs it (shut down), this call never returns: stop the monitor before shutting the executor down.
    public func run(schedule: @escaping @Sendable (@escaping @Sendable () -> Void) -> Void) async {
        let clock = ContinuousClock()
        while !Task.isCancelled && !isStopped {
            do {
                try await Task.sleep(for: configuration.interval, clock: clock)
            } catch {
                return
            }
            let scheduled = clock.now
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                schedule { [self] in
                    let now = clock.now
                    measured(at: now, lag: scheduled.duration(to: now))
                    continuation.resume()
                }
            }
        }
    }

    /// Starts measuring the Swift concurrency pool in a task of its own. Stop with `stop()`.
    public func start() {
        start { [self] in await runOnConcurrencyPool() }
    }

    /// Starts measuring the executor `schedule` hands work to, in a task of its own. Stop with `stop()`.
    public func start(schedule: @escaping @Sendable (@escaping @Sendable () -> Void) -> Void) {
        start { [self] in await run(schedule: schedule) }
    }

    private func start(_ body: @escaping @Sendable () async -> Void) {
        state.withLock { state in
            precondition(state.task == nil, "LagMonitor: already started")
            state.task = Task { await body() }
        }
    }

    /// Stops measuring for good (the running loops record nothing more) and returns the summary.
    @discardableResult
    public func stop() -> LagSummary {
        let task = state.withLock { state in
            state.stopped = true
            defer { state.task = nil }
            return state.task
        }
        task?.cancel()
        return summary
    }

    // MARK: Results

    /// Records one measurement taken at `instant` (even after `stop()`); negative lags count as 0.
    public func record(at instant: ContinuousClock.Instant, lag: Duration) {
        record(at: instant, lag: lag, unlessStopped: false)
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    private func measured(at instant: ContinuousClock.Instant, lag: Duration) {
        record(at: instant, lag: lag, unlessStopped: true)
    }

    private func record(at instant: ContinuousClock.Instant, lag: Duration, unlessStopped: Bool) {
        let lagNs = max(0, Pipeline<Int>.nanoseconds(lag))
        let tNs = Pipeline<Int>.nanoseconds(origin.duration(to: instant))
        let capacity = configuration.capacity
        state.withLock { state in
            if unlessStopped && state.stopped { return }
            state.count += 1
            state.sumNs += Double(lagNs)
            if lagNs > state.maxNs { state.maxNs = lagNs }
            if state.lags.count < capacity { state.lags.append(lagNs) }
            if state.pending.count < capacity { state.pending.append(LagSample(tNs: tNs, lagNs: lagNs)) }
        }
    }

    /// The samples recorded and not yet drained, oldest first.
    public var samples: [LagSample] {
        state.withLock { $0.pending }
    }

    /// Returns the samples recorded so far and forgets them (the summary keeps counting them).
    public func drainSamples() -> [LagSample] {
        state.withLock { state in
            defer { state.pending.removeAll() }
            return state.pending
        }
    }

    /// Count, max, mean and p95 of everything recorded (p95 over the first `capacity` lags).
    public var summary: LagSummary {
        let (count, maxNs, sumNs, lags) = state.withLock { ($0.count, $0.maxNs, $0.sumNs, $0.lags) }
        guard count > 0 else { return LagSummary() }
        let sorted = lags.sorted()
        let rank = Int((0.95 * Double(sorted.count)).rounded(.up))
        let p95 = sorted[max(0, min(sorted.count - 1, rank - 1))]
        return LagSummary(count: count, maxNs: maxNs, meanNs: sumNs / Double(count), p95Ns: p95)
    }
}
