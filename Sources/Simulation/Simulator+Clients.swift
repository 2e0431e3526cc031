import AsyncPatterns
import HTTPEngines

/// The load models, as the engines' `RunControl` hands out work: the warm-up (every worker gets one, the rest wait at
/// the barrier until each has its final sample), then the closed loop's next id, or the open loop's arrivals and
/// retries in the order they fall due, each needing a free worker.
extension Simulator {
    /// Lets every freed worker take its next request, in the order they were freed.
    mutating func pollPendingWorkers() {
        while let worker = pendingWorkers.pop() { poll(worker) }
    }

    /// Gives `worker` its next request, parks it at the barrier or among the idle ones, or lets it end.
    mutating func poll(_ worker: Int32) {
        if !barrierOpen || warmupTaken < warmupTotal {
            let remaining = warmupTotal - warmupTaken
            let unwarmed = workers - warmedWorkers
            let warmed = warmedUp[Int(worker)]
            if remaining > 0 && (!warmed || remaining > unwarmed) {
                let id = warmupTaken
                warmupTaken += 1
                if !warmed {
                    warmedUp[Int(worker)] = true
                    warmedWorkers += 1
                }
                start(requestID: Int64(id), intendedNs: nowNs, isWarmup: true, worker: worker)
                return
            }
            if !barrierOpen {
                barrierWaiters.append(worker)
                return
            }
        }
        if isOpenLoop {
            if let slot = ready.pop() {
                assign(slot, to: worker)
            } else {
                idleWorkers.append(worker)
            }
            return
        }
        guard nowNs < measuredEndNs else { return }
        var limit = configuration.requests
        if let minimumMeasuredNs, nowNs - measuredOriginNs < minimumMeasuredNs {
            limit = max(limit, Self.measuredRequestCap)
        }
        guard nextMeasured < limit else { return }
        let id = warmupTotal + nextMeasured
        nextMeasured += 1
        start(requestID: Int64(id), intendedNs: nowNs, isWarmup: false, worker: worker)
    }

    /// Opens the barrier now: the measured phase, its schedule and its end time start; waiting workers poll again.
    mutating func openBarrier() {
        guard !barrierOpen else { return }
        barrierOpen = true
        measuredOriginNs = nowNs
        measuredEndNs = configuration.duration.map { nowNs.addingSaturating(VirtualClock.nanoseconds($0)) } ?? .max
        if isOpenLoop {
            schedule = ArrivalSchedule(configuration, originNs: nowNs)
            scheduleNextArrival()
        }
        for worker in barrierWaiters { pendingWorkers.push(worker) }
        barrierWaiters.removeAll()
    }

    /// Open loop: schedules the next arrival while the count and the duration allow.
    mutating func scheduleNextArrival() {
        guard arrivalsTaken < configuration.requests, let next = schedule?.next(), next < measuredEndNs else { return }
        queue.schedule(.arrival, atNs: next, slot: -1)
    }

    /// Open loop: a scheduled request is due; it starts on an idle worker or waits for one.
    mutating func arrivalEvent() {
        let id = warmupTotal + arrivalsTaken
        arrivalsTaken += 1
        let slot = allocateSlot(requestID: Int64(id), intendedNs: nowNs, isWarmup: false, worker: -1)
        if let worker = idleWorkers.popLast() {
            assign(slot, to: worker)
        } else {
            ready.push(slot)
        }
        scheduleNextArrival()
    }

    /// A retry's backoff ended: its worker (closed loop, warm-up) sends it, or it needs a worker (open loop).
    mutating func beginEvent(slot: Int32) {
        if slots[Int(slot)].worker >= 0 {
            begin(slot)
        } else if let worker = idleWorkers.popLast() {
            assign(slot, to: worker)
        } else {
            ready.push(slot)
        }
    }

    /// Open loop: `worker` runs `slot` from now; a first attempt records how late it starts behind its schedule.
    mutating func assign(_ slot: Int32, to worker: Int32) {
        slots[Int(slot)].worker = worker
        if slots[Int(slot)].attempt == 1 {
            maxLatenessNs = max(maxLatenessNs, nowNs - slots[Int(slot)].intendedNs)
        }
        begin(slot)
    }

    /// A new logical request on `worker`, sent (or rejected) at once.
    mutating func start(requestID: Int64, intendedNs: Int64, isWarmup: Bool, worker: Int32) {
        begin(allocateSlot(requestID: requestID, intendedNs: intendedNs, isWarmup: isWarmup, worker: worker))
    }

    /// Takes a free slot for a new logical request. Its token is kept, so stale events never match it.
    mutating func allocateSlot(requestID: Int64, intendedNs: Int64, isWarmup: Bool, worker: Int32) -> Int32 {
        let index: Int32
        if let free = freeSlots.popLast() {
            index = free
        } else {
            index = Int32(slots.count)
            slots.append(RequestSlot())
        }
        // The live engines send the decimal id as `X-Request-Id`; the server hashes that text.
        let idHash = idHasher.hash(requestID)
        let at = Int(index)
        slots[at].requestID = requestID
        slots[at].idHash = idHash
        slots[at].intendedNs = intendedNs
        slots[at].attempt = 1
        slots[at].worker = worker
        slots[at].isWarmup = isWarmup
        slots[at].awaiting = false
        slots[at].waitingForGate = false
        return index
    }

    /// The logical request in `slot` has its final sample: free its slot and worker; the last warm-up one opens
    /// the barrier.
    mutating func finish(_ slot: Int32) {
        completed += 1
        lastFinishNs = nowNs
        let worker = slots[Int(slot)].worker
        let isWarmup = slots[Int(slot)].isWarmup
        slots[Int(slot)].worker = -1
        freeSlots.append(slot)
        if isWarmup {
            warmupFinished += 1
            if warmupFinished == warmupTotal { openBarrier() }
        }
        if worker >= 0 { pendingWorkers.push(worker) }
    }
}
