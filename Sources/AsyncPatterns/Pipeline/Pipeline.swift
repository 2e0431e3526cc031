import Foundation

/// A bounded producer-consumer queue with backpressure, batching by size or time, an explicit policy when
/// full, a graceful drain and metrics. Samples flow engine → pipeline → store through it, so a long run's
/// memory stays flat.
///
/// Producers call `push(_:)` from any thread (it blocks only under `.block` when full) or `send(_:)` from async
/// code (it suspends instead). One consumer takes batches: `startConsumer(name:_:)` runs it on a dedicated
/// thread (what a SQLite writer needs), `consume(_:)` runs it on the calling thread. `finish()` stops input,
/// delivers everything accepted, and waits for the consumer to end.
///
/// The push path takes one lock, appends into a preallocated ring buffer and signals the consumer only when a
/// batch fills up (or the queue stops being empty while the consumer sleeps without a deadline).
public final class Pipeline<Element: Sendable>: @unchecked Sendable {
    // Invariants, all under `lock`: `storage[(head + i) % capacity]` for i in 0..<count is initialized; at most
    // one consumer runs; the counters satisfy produced == consumed + dropped + rejected + lost + depth + inFlight.
    private struct State {
        var head = 0
        var count = 0
        var closed = false
        var failed = false
        var flushRequested = false
        var consumerActive = false
        var consumerWaiting = false
        var consumerHasDeadline = false
        var blockedProducers = 0
        var asyncWaiters: [UnsafeContinuation<Void, Never>] = []
        var threadStarted = false
        var threadDone = false
        var consumerError: (any Error)?
        var metrics = PipelineMetrics()
        var depthPoints: [PipelineDepthPoint] = []
        var lastDepthPointNs: Int64 = .min
    }

    private static var consumerCondition: Int { 0 }
    private static var producerCondition: Int { 1 }
    private static var doneCondition: Int { 2 }

    /// The configuration the pipeline was built with.
    public let configuration: PipelineConfiguration
    /// The instant depth points are measured from.
    public let origin: ContinuousClock.Instant

    private let capacity: Int
    private let maxBatchSize: Int
    private let fullPolicy: PipelineFullPolicy
    private let storage: UnsafeMutablePointer<Element>
    private let state: UnsafeMutablePointer<State>
    private let lock = ConditionLock(conditions: 3)
    private let clock = ContinuousClock()

    /// Creates an empty pipeline. `origin` is time zero of the depth series (e.g. the cell's start).
    ///
    /// Precondition: `maxBatchSize >= 1`, `capacity >= maxBatchSize`, `maxBatchWait > 0`.
    public init(configuration: PipelineConfiguration = .default, origin: ContinuousClock.Instant = .now) {
        precondition(configuration.maxBatchSize >= 1, "Pipeline: maxBatchSize must be at least 1")
        precondition(
            configuration.capacity >= configuration.maxBatchSize, "Pipeline: capacity must be >= maxBatchSize")
        precondition(configuration.maxBatchWait > .zero, "Pipeline: maxBatchWait must be positive")
        self.configuration = configuration
        self.origin = origin
        capacity = configuration.capacity
        maxBatchSize = configuration.maxBatchSize
        fullPolicy = configuration.fullPolicy
        storage = .allocate(capacity: configuration.capacity)
        state = .allocate(capacity: 1)
        state.initialize(to: State())
    }

    deinit {
        discardQueued()
        storage.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    // MARK: Producing

    /// Pushes one element. Under `.block` it waits while the queue is full; under the drop policies it never
    /// waits. Returns what became of the element; every outcome is counted in `metrics`.
    @discardableResult
    public func push(_ element: Element) -> PipelinePushOutcome {
        lock.lock()
        state.pointee.metrics.produced += 1
        if state.pointee.closed || state.pointee.failed {
            state.pointee.metrics.rejected += 1
            lock.unlock()
            return .rejected
        }
        var outcome = PipelinePushOutcome.accepted
        if state.pointee.count == capacity {
            switch fullPolicy {
            case .dropNewest:
                state.pointee.metrics.dropped += 1
                lock.unlock()
                return .dropped
            case .dropOldest:
                // The queue is full, so the tail slot is the head slot: overwrite the oldest, advance the head.
                let head = state.pointee.head
                (storage + head).pointee = element
                state.pointee.head = head + 1 == capacity ? 0 : head + 1
                state.pointee.metrics.dropped += 1
                lock.unlock()
                return .acceptedDroppingOldest
            case .block:
                state.pointee.metrics.producerWaits += 1
                state.pointee.blockedProducers += 1
                while state.pointee.count == capacity && !state.pointee.closed && !state.pointee.failed {
                    lock.wait(Self.producerCondition)
                }
                state.pointee.blockedProducers -= 1
                if state.pointee.closed || state.pointee.failed {
                    state.pointee.metrics.rejected += 1
                    lock.unlock()
                    return .rejected
                }
                outcome = .accepted
            }
        }
        let wake = append(element)
        lock.unlock()
        if wake { lock.signal(Self.consumerCondition) }
        return outcome
    }

    /// Pushes `elements` in order under one lock acquisition, as `push(_:)` would one by one (under `.block` it
    /// waits for room as often as needed). Returns how many were accepted.
    @discardableResult
    public func push<S: Sequence<Element>>(contentsOf elements: S) -> Int {
        var accepted = 0
        var wake = false
        lock.lock()
        for element in elements {
            state.pointee.metrics.produced += 1
            if state.pointee.count == capacity && !state.pointee.closed && !state.pointee.failed {
                switch fullPolicy {
                case .dropNewest:
                    state.pointee.metrics.dropped += 1
                    continue
                case .dropOldest:
                    let head = state.pointee.head
                    (storage + head).pointee = element
                    state.pointee.head = head + 1 == capacity ? 0 : head + 1
                    state.pointee.metrics.dropped += 1
                    accepted += 1
                    continue
                case .block:
                    state.pointee.metrics.producerWaits += 1
                    state.pointee.blockedProducers += 1
                    if state.pointee.consumerWaiting {
                        lock.signal(Self.consumerCondition)
                    }
                    while state.pointee.count == capacity && !state.pointee.closed && !state.pointee.failed {
                        lock.wait(Self.producerCondition)
                    }
                    state.pointee.blockedProducers -= 1
                }
            }
            if state.pointee.closed || state.pointee.failed {
                state.pointee.metrics.rejected += 1
                continue
            }
            wake = append(element) || wake
            accepted += 1
        }
        lock.unlock()
        if wake { lock.signal(Self.consumerCondition) }
        return accepted
    }

    /// Pushes one element from async code. Under `.block` it suspends (instead of blocking a thread) while the
    /// queue is full; otherwise it behaves as `push(_:)`. Not cancellable: an accepted sample is never lost, and
    /// `finish()` resumes a waiting sender with `.rejected`.
    public func send(_ element: Element) async -> PipelinePushOutcome {
        guard fullPolicy == .block else { return push(element) }
        var counted = false
        while true {
            var result: PipelinePushOutcome?
            var wake = false
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                lock.lock()
                if !counted {
                    state.pointee.metrics.produced += 1
                    counted = true
                }
                if state.pointee.closed || state.pointee.failed {
                    state.pointee.metrics.rejected += 1
                    result = .rejected
                } else if state.pointee.count < capacity {
                    wake = append(element)
                    result = .accepted
                } else {
                    state.pointee.metrics.producerWaits += 1
                    state.pointee.asyncWaiters.append(continuation)
                    lock.unlock()
                    return
                }
                lock.unlock()
                continuation.resume()
            }
            if wake { lock.signal(Self.consumerCondition) }
            if let result { return result }
        }
    }

    /// Appends at the tail; the lock is held and there is room. Returns whether to signal the consumer.
    @inline(__always)
    private func append(_ element: Element) -> Bool {
        var tail = state.pointee.head + state.pointee.count
        if tail >= capacity { tail -= capacity }
        (storage + tail).initialize(to: element)
        let count = state.pointee.count + 1
        state.pointee.count = count
        if count > state.pointee.metrics.peakDepth { state.pointee.metrics.peakDepth = count }
        guard state.pointee.consumerWaiting else { return false }
        return count == maxBatchSize || (count == 1 && !state.pointee.consumerHasDeadline)
    }

    // MARK: Consuming

    /// Waits for the next batch and moves it into `batch` (which must be empty). Returns false once the pipeline
    /// is finished and drained, or its consumer failed. A batch is ready when it holds `maxBatchSize` elements,
    /// `maxBatchWait` after the consumer first saw a partial one, on `flush()`, or during the final drain.
    private func nextBatch(into batch: inout [Element]) -> Bool {
        lock.lock()
        var deadline: ContinuousClock.Instant?
        while true {
            let count = state.pointee.count
            if state.pointee.failed || (count == 0 && state.pointee.closed) {
                lock.unlock()
                return false
            }
            if count >= maxBatchSize || (count > 0 && (state.pointee.closed || state.pointee.flushRequested)) {
                break
            }
            state.pointee.consumerWaiting = true
            if count > 0 {
                let now = clock.now
                let due = deadline ?? now.advanced(by: configuration.maxBatchWait)
                deadline = due
                if now >= due {
                    state.pointee.consumerWaiting = false
                    break
                }
                state.pointee.consumerHasDeadline = true
                lock.wait(Self.consumerCondition, timeout: now.duration(to: due))
            } else {
                state.pointee.consumerHasDeadline = false
                lock.wait(Self.consumerCondition)
            }
            state.pointee.consumerWaiting = false
        }
        recordDepthPointIfDue(now: clock.now)
        let taken = min(state.pointee.count, maxBatchSize)
        let head = state.pointee.head
        let firstRun = min(taken, capacity - head)
        batch.append(contentsOf: UnsafeBufferPointer(start: storage + head, count: firstRun))
        (storage + head).deinitialize(count: firstRun)
        if taken > firstRun {
            batch.append(contentsOf: UnsafeBufferPointer(start: storage, count: taken - firstRun))
            storage.deinitialize(count: taken - firstRun)
        }
        let newHead = head + taken
        state.pointee.head = newHead >= capacity ? newHead - capacity : newHead
        state.pointee.count -= taken
        if state.pointee.count == 0 { state.pointee.flushRequested = false }
        let wakeProducers = state.pointee.blockedProducers > 0
        let waiters = takeAsyncWaiters()
        lock.unlock()
        if wakeProducers { lock.broadcast(Self.producerCondition) }
        for waiter in waiters { waiter.resume() }
        return true
    }

    /// Runs the consumer loop on the calling thread until the pipeline is finished and drained: `body` gets each
    /// batch in order. When `body` throws, the pipeline fails (its batch and the queue are counted as `lost`,
    /// later pushes are rejected) and the error is rethrown. Only one consumer may run at a time.
    public func consume(_ body: ([Element]) throws -> Void) throws {
        lock.lock()
        precondition(!state.pointee.consumerActive, "Pipeline: only one consumer may run at a time")
        state.pointee.consumerActive = true
        lock.unlock()
        defer {
            lock.lock()
            state.pointee.consumerActive = false
            lock.unlock()
        }
        var batch: [Element] = []
        batch.reserveCapacity(maxBatchSize)
        while nextBatch(into: &batch) {
            let start = clock.now
            do {
                try body(batch)
            } catch {
                fail(error, inFlight: batch.count)
                throw error
            }
            let nanos = Self.nanoseconds(start.duration(to: clock.now))
            lock.lock()
            state.pointee.metrics.consumed += batch.count
            state.pointee.metrics.batches += 1
            state.pointee.metrics.batchNanosTotal += nanos
            if nanos > state.pointee.metrics.batchNanosMax { state.pointee.metrics.batchNanosMax = nanos }
            lock.unlock()
            batch.removeAll(keepingCapacity: true)
        }
        lock.lock()
        let error = state.pointee.consumerError
        lock.unlock()
        if let error { throw error }
    }

    /// Starts the consumer loop on a dedicated thread named `name` (see `consume(_:)`), after running `onStart` on
    /// that thread (for example to lower its priority). Call `finish()` to drain and join it. Whatever `body`
    /// captures must not be used elsewhere until `finish()` returns.
    public func startConsumer(
        name: String = "pipeline-consumer", onStart: @escaping @Sendable () -> Void = {},
        _ body: @escaping @Sendable ([Element]) throws -> Void
    ) {
        lock.lock()
        precondition(!state.pointee.threadStarted, "Pipeline: startConsumer may be called once")
        state.pointee.threadStarted = true
        lock.unlock()
        let thread = Thread { [self] in
            onStart()
            try? consume(body)
            lock.lock()
            state.pointee.threadDone = true
            lock.unlock()
            lock.broadcast(Self.doneCondition)
        }
        thread.name = name
        thread.start()
    }

    /// Asks the consumer to deliver what is queued now, without waiting for a full batch or `maxBatchWait`.
    public func flush() {
        lock.lock()
        if state.pointee.count > 0 { state.pointee.flushRequested = true }
        let wake = state.pointee.consumerWaiting
        lock.unlock()
        if wake { lock.signal(Self.consumerCondition) }
    }

    /// Stops accepting input (later pushes are rejected, waiting producers are released with `.rejected`) and
    /// lets the consumer drain what is queued. Does not wait; see `finish()`.
    public func close() {
        lock.lock()
        state.pointee.closed = true
        let waiters = takeAsyncWaiters()
        lock.unlock()
        lock.broadcast(Self.consumerCondition)
        lock.broadcast(Self.producerCondition)
        for waiter in waiters { waiter.resume() }
    }

    /// Closes the pipeline, waits until the consumer thread (if one was started) has delivered everything
    /// accepted, and returns the final metrics.
    /// - Throws: the error the consumer's body threw, if it did.
    @discardableResult
    public func finish() throws -> PipelineMetrics {
        close()
        lock.lock()
        if state.pointee.threadStarted {
            while !state.pointee.threadDone { lock.wait(Self.doneCondition) }
        }
        let error = state.pointee.consumerError
        let metrics = state.pointee.metrics
        lock.unlock()
        if let error { throw error }
        return metrics
    }

    private func fail(_ error: any Error, inFlight: Int) {
        lock.lock()
        state.pointee.failed = true
        if state.pointee.consumerError == nil { state.pointee.consumerError = error }
        state.pointee.metrics.lost += inFlight + state.pointee.count
        discardQueued()
        let waiters = takeAsyncWaiters()
        lock.unlock()
        lock.broadcast(Self.producerCondition)
        for waiter in waiters { waiter.resume() }
    }

    /// Deinitializes every queued element; the lock is held (or the pipeline is being destroyed).
    private func discardQueued() {
        let head = state.pointee.head
        let count = state.pointee.count
        let firstRun = min(count, capacity - head)
        (storage + head).deinitialize(count: firstRun)
        storage.deinitialize(count: count - firstRun)
        state.pointee.head = 0
        state.pointee.count = 0
    }

    private func takeAsyncWaiters() -> [UnsafeContinuation<Void, Never>] {
        guard !state.pointee.asyncWaiters.isEmpty else { return [] }
        let waiters = state.pointee.asyncWaiters
        state.pointee.asyncWaiters.removeAll()
        return waiters
    }

    // MARK: Metrics

    /// A consistent snapshot of the counters.
    public var metrics: PipelineMetrics {
        lock.lock()
        defer { lock.unlock() }
        var metrics = state.pointee.metrics
        metrics.depth = state.pointee.count
        return metrics
    }

    /// Elements queued now.
    public var depth: Int {
        lock.lock()
        defer { lock.unlock() }
        return state.pointee.count
    }

    /// Records a depth point now, whatever the interval (for callers that sample on their own schedule).
    public func sampleDepth() {
        let tNs = Self.nanoseconds(origin.duration(to: clock.now))
        lock.lock()
        appendDepthPoint(PipelineDepthPoint(tNs: tNs, depth: state.pointee.count))
        lock.unlock()
    }

    /// The depth points recorded and not yet drained, oldest first.
    public var depthSeries: [PipelineDepthPoint] {
        lock.lock()
        defer { lock.unlock() }
        return state.pointee.depthPoints
    }

    /// Returns the depth points recorded so far and forgets them (to stream them out and keep memory flat).
    public func drainDepthSeries() -> [PipelineDepthPoint] {
        lock.lock()
        defer { lock.unlock() }
        let points = state.pointee.depthPoints
        state.pointee.depthPoints.removeAll()
        return points
    }

    private func recordDepthPointIfDue(now: ContinuousClock.Instant) {
        let tNs = Self.nanoseconds(origin.duration(to: now))
        let interval = Self.nanoseconds(configuration.depthSampleInterval)
        guard state.pointee.lastDepthPointNs == .min || tNs - state.pointee.lastDepthPointNs >= interval else {
            return
        }
        appendDepthPoint(PipelineDepthPoint(tNs: tNs, depth: state.pointee.count))
    }

    private func appendDepthPoint(_ point: PipelineDepthPoint) {
        state.pointee.lastDepthPointNs = point.tNs
        guard state.pointee.depthPoints.count < configuration.maxDepthPoints else { return }
        state.pointee.depthPoints.append(point)
    }

    @inline(__always)
    static func nanoseconds(_ duration: Duration) -> Int64 {
        let components = duration.components
        return components.seconds &* 1_000_000_000 &+ components.attoseconds / 1_000_000_000
    }
}
