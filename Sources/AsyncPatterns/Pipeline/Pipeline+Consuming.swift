import Foundation

extension Pipeline {
    /// Waits for the next batch and moves it into `batch` (which must be empty). Returns false once the pipeline
    /// is finished and drained, or its consumer failed. A batch is ready when it holds `maxBatchSize` elements,
    /// `maxBatchWait` after the consumer first saw a partial one, on `flush()`, or during the final drain.
    private func nextBatch(into batch: inout [Element]) -> Bool {
        let (ready, wakeProducers, waiters) = state.withLockWaiting {
            state, waiter -> (Bool, Bool, [UnsafeContinuation<Void, Never>]) in
            var deadline: ContinuousClock.Instant?
            while true {
                let count = state.pointee.count
                if state.pointee.failed || (count == 0 && state.pointee.closed) {
                    return (false, false, [])
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
                    waiter.wait(Self.consumerCondition, timeout: now.duration(to: due))
                } else {
                    state.pointee.consumerHasDeadline = false
                    waiter.wait(Self.consumerCondition)
                }
                state.pointee.consumerWaiting = false
            }
            recordDepthPointIfDue(&state.pointee, now: clock.now)
            state.pointee.take(into: &batch)
            return (true, state.pointee.blockedProducers > 0, state.pointee.takeAsyncWaiters())
        }
        if wakeProducers { state.broadcast(Self.producerCondition) }
        for waiter in waiters { waiter.resume() }
        return ready
    }

    /// Runs the consumer loop on the calling thread until the pipeline is finished and drained: `body` gets each
    /// batch in order. When `body` throws, the pipeline fails (its batch and the queue are counted as `lost`,
    /// later pushes are rejected) and the error is rethrown. Only one consumer may run at a time.
    public func consume(_ body: ([Element]) throws -> Void) throws {
        state.withLock { state in
            precondition(!state.consumerActive, "Pipeline: only one consumer may run at a time")
            state.consumerActive = true
        }
        defer { state.withLock { $0.consumerActive = false } }
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
            let consumed = batch.count
            state.withLock { state in
                state.metrics.consumed += consumed
                state.metrics.batches += 1
                state.metrics.batchNanosTotal += nanos
                if nanos > state.metrics.batchNanosMax { state.metrics.batchNanosMax = nanos }
            }
            batch.removeAll(keepingCapacity: true)
        }
        if let error = state.withLock({ $0.consumerError }) { throw error }
    }

    /// Starts the consumer loop on a dedicated thread named `name` (see `consume(_:)`), after running `onStart` on
    /// that thread (for example to lower its priority). Call `finish()` to drain and join it. Whatever `body`
    /// captures must not be used elsewhere until `finish()` returns.
    public func startConsumer(
        name: String = "pipeline-consumer", onStart: @escaping @Sendable () -> Void = {},
        _ body: @escaping @Sendable ([Element]) throws -> Void
    ) {
        state.withLock { state in
            precondition(!state.threadStarted, "Pipeline: startConsumer may be called once")
            state.threadStarted = true
        }
        let thread = Thread { [self] in
            onStart()
            try? consume(body)
            state.withLock { $0.threadDone = true }
            state.broadcast(Self.doneCondition)
        }
        thread.name = name
        thread.start()
    }

    /// Asks the consumer to deliver what is queued now, without waiting for a full batch or `maxBatchWait`.
    public func flush() {
        let wake = state.withLock { state -> Bool in
            if state.count > 0 { state.flushRequested = true }
            return state.consumerWaiting
        }
        if wake { state.signal(Self.consumerCondition) }
    }

    /// Stops accepting input (later pushes are rejected, waiting producers are released with `.rejected`) and
    /// lets the consumer drain what is queued. Does not wait; see `finish()`.
    public func close() {
        let waiters = state.withLock { state in
            state.closed = true
            return state.takeAsyncWaiters()
        }
        state.broadcast(Self.consumerCondition)
        state.broadcast(Self.producerCondition)
        for waiter in waiters { waiter.resume() }
    }

    /// Closes the pipeline, waits until the consumer thread (if one was started) has delivered everything
    /// accepted, and returns the final metrics.
    /// - Throws: the error the consumer's body threw, if it did.
    @discardableResult
    public func finish() throws -> PipelineMetrics {
        close()
        let (error, metrics) = state.withLockWaiting { state, waiter in
            if state.pointee.threadStarted {
                while !state.pointee.threadDone { waiter.wait(Self.doneCondition) }
            }
            return (state.pointee.consumerError, state.pointee.metrics)
        }
        if let error { throw error }
        return metrics
    }

    private func fail(_ error: any Error, inFlight: Int) {
        let waiters = state.withLock { state in
            state.failed = true
            if state.consumerError == nil { state.consumerError = error }
            state.metrics.lost += inFlight + state.count
            state.discardQueued()
            return state.takeAsyncWaiters()
        }
        state.broadcast(Self.producerCondition)
        for waiter in waiters { waiter.resume() }
    }
}

extension Pipeline.State {
    /// Moves up to `maxBatchSize` elements from the head into `batch`.
    @inline(__always)
    mutating func take(into batch: inout [Element]) {
        let taken = min(count, maxBatchSize)
        let firstRun = min(taken, capacity - head)
        batch.append(contentsOf: UnsafeBufferPointer(start: storage + head, count: firstRun))
        (storage + head).deinitialize(count: firstRun)
        if taken > firstRun {
            batch.append(contentsOf: UnsafeBufferPointer(start: storage, count: taken - firstRun))
            storage.deinitialize(count: taken - firstRun)
        }
        let newHead = head + taken
        head = newHead >= capacity ? newHead - capacity : newHead
        count -= taken
        if count == 0 { flushRequested = false }
    }

    /// Deinitializes every queued element.
    mutating func discardQueued() {
        let firstRun = min(count, capacity - head)
        (storage + head).deinitialize(count: firstRun)
        storage.deinitialize(count: count - firstRun)
        head = 0
        count = 0
    }

    /// The suspended senders, to resume once the lock is released.
    mutating func takeAsyncWaiters() -> [UnsafeContinuation<Void, Never>] {
        guard !asyncWaiters.isEmpty else { return [] }
        let waiters = asyncWaiters
        asyncWaiters.removeAll()
        return waiters
    }
}
