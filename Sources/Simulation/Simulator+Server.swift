/// The server's capacity model in virtual time, as the mock server's `ServerCore` runs it: at most `limit` requests
/// in service; beyond that a FIFO queue (up to `maxQueue`) or a 503. A hang or a reset frees its place at once; any
/// other service holds it for its whole delay, even when the client has given up meanwhile (wasted work).
extension Simulator {
    /// Takes a free server job for an attempt on its way to the server.
    mutating func allocateJob(_ job: ServerJob) -> Int32 {
        if let free = freeJobs.popLast() {
            jobs[Int(free)] = job
            return free
        }
        jobs.append(job)
        return Int32(jobs.count - 1)
    }

    /// An attempt reaches the server: served now, queued, or answered 503.
    mutating func serverArrive(job: Int32) {
        serverCounters.requests += 1
        if inService < server.limit {
            admitToService(job)
        } else if server.queues && (server.maxQueue == 0 || serverQueue.count < server.maxQueue) {
            serverQueue.push(job)
            serverCounters.peakQueued = max(serverCounters.peakQueued, serverQueue.count)
        } else {
            serverCounters.rejected += 1
            let current = jobs[Int(job)]
            deliver(job, server.overCapacity(idHash: current.idHash, attempt: current.attempt))
            freeJobs.append(job)
        }
    }

    /// Starts a job's service in a free place: its fault and delay are drawn now, under the phase in force.
    mutating func admitToService(_ job: Int32) {
        inService += 1
        serverCounters.peakInService = max(serverCounters.peakInService, inService)
        let current = jobs[Int(job)]
        let service = server.service(idHash: current.idHash, attempt: current.attempt, atNs: nowNs)
        switch service.fault {
        case .hang?:
            // No answer: the client's timeout ends the attempt.
            inService -= 1
            freeJobs.append(job)
        case .reset?:
            inService -= 1
            deliver(job, ServerModel.Answer(status: 0, errorClass: .reset, retryAfterSeconds: -1))
            freeJobs.append(job)
        default:
            jobs[Int(job)].service = service
            queue.schedule(.serviceEnd, atNs: nowNs.addingSaturating(service.delayNs), slot: job)
        }
    }

    /// A service ends: the answer leaves for the client, and the freed place serves the queue.
    mutating func serviceEnd(job: Int32) {
        inService -= 1
        let current = jobs[Int(job)]
        deliver(job, server.answer(current.service, idHash: current.idHash, attempt: current.attempt))
        freeJobs.append(job)
        while inService < server.limit, let next = serverQueue.pop() { admitToService(next) }
    }

    /// Sends `answer` back; it reaches the client after the return trip unless the client's timeout comes first,
    /// in which case the work was wasted.
    mutating func deliver(_ job: Int32, _ answer: ServerModel.Answer) {
        let current = jobs[Int(job)]
        let index = Int(current.slot)
        let atNs = nowNs.addingSaturating(downNs)
        guard slots[index].token == current.token, slots[index].awaiting,
            atNs < slots[index].startNs.addingSaturating(timeoutNs)
        else {
            serverCounters.wasted += 1
            return
        }
        slots[index].endNs = atNs
        slots[index].status = answer.status
        slots[index].errorClass = answer.errorClass
        slots[index].retryAfterSeconds = answer.retryAfterSeconds
        queue.schedule(.attemptEnd, atNs: atNs, slot: current.slot, token: current.token)
    }

    /// An attempt's timeout fires at the client: unless its answer came first, it ends as `.timeout`.
    mutating func timeoutEvent(slot: Int32, token: UInt32) {
        let index = Int(slot)
        guard slots[index].token == token, slots[index].awaiting else { return }
        slots[index].awaiting = false
        if limiter != nil { leaveGate() }
        slots[index].endNs = nowNs
        slots[index].status = 0
        slots[index].errorClass = .timeout
        slots[index].retryAfterSeconds = -1
        attemptEnded(slot)
    }
}
