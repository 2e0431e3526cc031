import AsyncPatterns
import Foundation

extension RunControl {
    /// What one worker loop remembers between takes. Each worker owns one and passes it to every `take`.
    struct Worker {
        /// Whether this worker has taken a warm-up request.
        var hasWarmedUp = false
        /// Whether this worker has passed the barrier into the measured phase.
        var isMeasuring = false

        init() {}
    }

    /// A logical request a worker took: a new one, or an open-loop retry whose backoff is ending.
    struct Ticket {
        /// The logical request id.
        var id: Int
        /// Open loop: when to start in ns, the schedule for a new request or the end of the backoff for a parked
        /// one. Nil: start now (the closed loop, and every warm-up request).
        var scheduledNs: Int64?
        /// Whether the request belongs to the warm-up.
        var isWarmup: Bool
        /// Open loop: the parked request to resume. Nil for a new request.
        var parked: LogicalRequest?
    }

    /// What a worker does after asking for work.
    enum Poll {
        /// Run this ticket.
        case ticket(Ticket)
        /// Nothing to take yet: wait until the shared state's generation moves past this one, then ask again.
        case wait(generation: UInt64)
        /// Nothing is left: the worker ends.
        case done
    }

    /// Takes the next request for a worker on a dedicated thread, blocking it while there is nothing to take yet
    /// (at the barrier, or while open-loop requests in flight may still park a retry). Nil when the run is over.
    func takeBlocking(_ worker: inout Worker) -> Ticket? {
        while true {
            switch poll(&worker) {
            case .ticket(let ticket): return ticket
            case .done: return nil
            case .wait(let generation): waitBlocking(after: generation)
            }
        }
    }

    /// Takes the next request for a worker task, suspending it (never blocking its thread) while there is nothing
    /// to take yet. Nil when the run is over.
    func take(_ worker: inout Worker) async -> Ticket? {
        while true {
            switch poll(&worker) {
            case .ticket(let ticket): return ticket
            case .done: return nil
            case .wait(let generation):
                // Only the engine's own shutdown cancels a worker task, and a stopped run has no waits.
                if Task.isCancelled { stop() } else { await waitAsync(after: generation) }
            }
        }
    }

    /// Decides what `worker` does next without waiting.
    ///
    /// Warm-up: a worker that has not warmed up always gets a warm-up id (ids are reserved for it); one that has
    /// gets another only while the ids left exceed the workers not yet warmed. Then it waits at the barrier.
    /// Measured, closed loop: the next id, while fewer than `requests` (or, with a minimum measured duration,
    /// until that has passed) have been handed out and the time is not up. Open loop: whichever is due first,
    /// a parked retry or the next scheduled arrival.
    func poll(_ worker: inout Worker) -> Poll {
        if !worker.isMeasuring {
            if let warmup = pollWarmup(&worker) { return warmup }
            worker.isMeasuring = true
        }
        return isOpenLoop ? pollOpen() : pollClosed()
    }

    /// A warm-up ticket or a wait at the barrier; nil once the barrier is open and no warm-up id is left.
    private func pollWarmup(_ worker: inout Worker) -> Poll? {
        let stopping = isStopping
        return state.withLock { state -> Poll? in
            let remaining = warmupTotal - state.warmupTaken
            let unwarmed = workers - state.warmedWorkers
            // A stopping run hands out every id left, so that each ends as `.cancelled`.
            if remaining > 0 && (!worker.hasWarmedUp || remaining > unwarmed || stopping) {
                let id = state.warmupTaken
                state.warmupTaken += 1
                if !worker.hasWarmedUp {
                    worker.hasWarmedUp = true
                    state.warmedWorkers += 1
                }
                return .ticket(Ticket(id: id, scheduledNs: nil, isWarmup: true, parked: nil))
            }
            return state.barrierOpen ? nil : .wait(generation: state.generation)
        }
    }

    /// Closed loop: the next measured id. Lock-free: an id is claimed by compare-and-swap only once it is allowed,
    /// so the ids handed out stay contiguous however the workers' clock reads interleave.
    private func pollClosed() -> Poll {
        let nowNs = clock.now()
        guard nowNs < measuredEndNs.load(ordering: .relaxed) else { return .done }
        var limit = configuration.requests
        if let minimumMeasuredNs, !isStopping, nowNs - measuredOriginNs.load(ordering: .relaxed) < minimumMeasuredNs {
            limit = max(limit, Self.measuredRequestCap)
        }
        var index = nextMeasured.load(ordering: .relaxed)
        while index < limit {
            let (exchanged, original) = nextMeasured.compareExchange(
                expected: index, desired: index + 1, ordering: .relaxed)
            if exchanged {
                return .ticket(Ticket(id: warmupTotal + index, scheduledNs: nil, isWarmup: false, parked: nil))
            }
            index = original
        }
        return .done
    }

    /// Open loop: the parked retry or the scheduled arrival due first (a stopping run takes parked ones first), or
    /// a wait while requests in flight may still park a retry.
    private func pollOpen() -> Poll {
        let stopping = isStopping
        return state.withLock { state -> Poll in
            if state.pendingArrivalNs == nil && !state.arrivalsEnded {
                if state.arrivalsTaken < configuration.requests, let next = state.schedule?.next(),
                    next < measuredEndNs.load(ordering: .relaxed)
                {
                    state.pendingArrivalNs = next
                } else {
                    state.arrivalsEnded = true
                }
            }
            if let parkedNs = state.parked.earliestDueNs,
                stopping || state.pendingArrivalNs.map({ parkedNs <= $0 }) ?? true,
                let (request, dueNs) = state.parked.popEarliest()
            {
                state.inFlight += 1
                return .ticket(Ticket(id: Int(request.requestID), scheduledNs: dueNs, isWarmup: false, parked: request))
            }
            if let arrivalNs = state.pendingArrivalNs {
                state.pendingArrivalNs = nil
                let id = warmupTotal + state.arrivalsTaken
                state.arrivalsTaken += 1
                state.inFlight += 1
                return .ticket(Ticket(id: id, scheduledNs: arrivalNs, isWarmup: false, parked: nil))
            }
            return state.inFlight > 0 && !stopping ? .wait(generation: state.generation) : .done
        }
    }

    /// Blocks the thread until the shared state's generation moves past `generation` or the run stops.
    private func waitBlocking(after generation: UInt64) {
        state.withLockWaiting { state, waiter in
            state.pointee.blockingWaiters += 1
            while !isStopping, state.pointee.generation == generation {
                // Every change broadcasts; the bound is only a safety net, long enough that a thousand waiting
                // threads do not wake the machine up.
                waiter.wait(Self.changedCondition, timeout: .milliseconds(250))
            }
            state.pointee.blockingWaiters -= 1
        }
    }

    /// Suspends the task until the shared state's generation moves past `generation`, the run stops, or the task
    /// is cancelled.
    private func waitAsync(after generation: UInt64) async {
        let token = state.withLock { state in
            state.nextWaiterToken += 1
            return state.nextWaiterToken
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let waits = state.withLock { state -> Bool in
                    guard state.generation == generation, !isStopping, !Task.isCancelled else { return false }
                    state.asyncWaiters[token] = continuation
                    return true
                }
                if !waits { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.asyncWaiters.removeValue(forKey: token) }?.resume()
        }
    }
}
