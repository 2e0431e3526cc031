/// A bounded producer-consumer queue with backpressure, batching by size or time, an explicit policy when
/// full, a graceful drain and metrics. Samples flow engine → pipeline → store through it, so a long run's
/// memory stays flat.
///
/// Producers call `push(_:)` from any thread (it blocks only under `.block` when full) or `send(_:)` from async
/// code (it suspends instead). One consumer takes batches: `startConsumer(name:_:)` runs it on a dedicated
/// thread (what a SQLite writer needs), `consume(_:)` runs it on the calling thread. `finish()` stops input,
/// delivers everything accepted, and waits for the consumer to end. Consuming lives in `Pipeline+Consuming`, the
/// metrics and the depth series in `Pipeline+Metrics`.
///
/// The push path takes one lock, appends into a preallocated ring buffer and signals the consumer only when a
/// batch fills up (or the queue stops being empty while the consumer sleeps without a deadline).
public final class Pipeline<Element: Sendable>: Sendable {
    // Invariants, all under the lock of `state`: `storage[(head + i) % capacity]` for i in 0..<count is
    // initialized; at most one consumer runs; the counters satisfy
    // produced == consumed + dropped + rejected + lost + depth + inFlight.
    struct State {
        /// The ring buffer, `capacity` slots; allocated in `init`, freed in `deinit`.
        let storage: UnsafeMutablePointer<Element>
        let capacity: Int
        let maxBatchSize: Int
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

        /// Appends at the tail; there is room. Returns whether to signal the consumer.
        @inline(__always)
        mutating func append(_ element: Element) -> Bool {
            var tail = head + count
            if tail >= capacity { tail -= capacity }
            (storage + tail).initialize(to: element)
            count += 1
            if count > metrics.peakDepth { metrics.peakDepth = count }
            guard consumerWaiting else { return false }
            return count == maxBatchSize || (count == 1 && !consumerHasDeadline)
        }

        /// The queue is full, so the tail slot is the head slot: overwrites the oldest and advances the head.
        @inline(__always)
        mutating func overwriteOldest(with element: Element) {
            (storage + head).pointee = element
            head = head + 1 == capacity ? 0 : head + 1
            metrics.dropped += 1
        }
    }

    static var consumerCondition: Int { 0 }
    static var producerCondition: Int { 1 }
    static var doneCondition: Int { 2 }

    /// The configuration the pipeline was built with.
    public let configuration: PipelineConfiguration
    /// The instant depth points are measured from.
    public let origin: ContinuousClock.Instant

    let capacity: Int
    let maxBatchSize: Int
    let fullPolicy: PipelineFullPolicy
    /// The queue and its bookkeeping, with the consumer, producer and done conditions.
    let state: LockedBox<State>
    let clock = ContinuousClock()

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
        state = LockedBox(
            State(
                storage: .allocate(capacity: configuration.capacity), capacity: configuration.capacity,
                maxBatchSize: configuration.maxBatchSize),
            conditions: 3)
    }

    deinit {
        state.withLock { state in
            state.discardQueued()
            state.storage.deallocate()
        }
    }

    // MARK: Producing

    /// Pushes one element. Under `.block` it waits while the queue is full; under the drop policies it never
    /// waits. Returns what became of the element; every outcome is counted in `metrics`.
    @discardableResult
    public func push(_ element: Element) -> PipelinePushOutcome {
        let (outcome, wake) = state.withLockWaiting { state, waiter -> (PipelinePushOutcome, Bool) in
            state.pointee.metrics.produced += 1
            if state.pointee.closed || state.pointee.failed {
                state.pointee.metrics.rejected += 1
                return (.rejected, false)
            }
            if state.pointee.count == capacity {
                switch fullPolicy {
                case .dropNewest:
                    state.pointee.metrics.dropped += 1
                    return (.dropped, false)
                case .dropOldest:
                    state.pointee.overwriteOldest(with: element)
                    return (.acceptedDroppingOldest, false)
                case .block:
                    state.pointee.metrics.producerWaits += 1
                    state.pointee.blockedProducers += 1
                    while state.pointee.count == capacity && !state.pointee.closed && !state.pointee.failed {
                        waiter.wait(Self.producerCondition)
                    }
                    state.pointee.blockedProducers -= 1
                    if state.pointee.closed || state.pointee.failed {
                        state.pointee.metrics.rejected += 1
                        return (.rejected, false)
                    }
                }
            }
            return (.accepted, state.pointee.append(element))
        }
        if wake { state.signal(Self.consumerCondition) }
        return outcome
    }

    /// Pushes `elements` in order under one lock acquisition, as `push(_:)` would one by one (under `.block` it
    /// waits for room as often as needed). Returns how many were accepted.
    @discardableResult
    public func push<S: Sequence<Element>>(contentsOf elements: S) -> Int {
        let (accepted, wake) = state.withLockWaiting { state, waiter -> (Int, Bool) in
            var accepted = 0
            var wake = false
            for element in elements {
                state.pointee.metrics.produced += 1
                if state.pointee.count == capacity && !state.pointee.closed && !state.pointee.failed {
                    switch fullPolicy {
                    case .dropNewest:
                        state.pointee.metrics.dropped += 1
                        continue
                    case .dropOldest:
                        state.pointee.overwriteOldest(with: element)
                        accepted += 1
                        continue
                    case .block:
                        state.pointee.metrics.producerWaits += 1
                        state.pointee.blockedProducers += 1
                        if state.pointee.consumerWaiting {
                            self.state.signal(Self.consumerCondition)
                        }
                        while state.pointee.count == capacity && !state.pointee.closed && !state.pointee.failed {
                            waiter.wait(Self.producerCondition)
                        }
                        state.pointee.blockedProducers -= 1
                    }
                }
                if state.pointee.closed || state.pointee.failed {
                    state.pointee.metrics.rejected += 1
                    continue
                }
                wake = state.pointee.append(element) || wake
                accepted += 1
            }
            return (accepted, wake)
        }
        if wake { state.signal(Self.consumerCondition) }
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
                let suspended = state.withLock { state -> Bool in
                    if !counted {
                        state.metrics.produced += 1
                        counted = true
                    }
                    if state.closed || state.failed {
                        state.metrics.rejected += 1
                        result = .rejected
                    } else if state.count < capacity {
                        wake = state.append(element)
                        result = .accepted
                    } else {
                        state.metrics.producerWaits += 1
                        state.asyncWaiters.append(continuation)
                        return true
                    }
                    return false
                }
                if !suspended { continuation.resume() }
            }
            if wake { state.signal(Self.consumerCondition) }
            if let result { return result }
        }
    }
}
