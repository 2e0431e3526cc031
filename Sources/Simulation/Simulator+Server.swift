/// The server in virtual time when its attempts are served by events, as the mock server's `ServerCore` and
/// connection handler run them. The capacity model: at most `limit` requests in service; beyond that a FIFO queue (up
/// to `maxQueue`) or a 503. A hang or a reset frees its place at once; any other service holds it for its whole
/// delay, even when the client has given up meanwhile (wasted work). A `/contention/{key}` write that is served (no
/// fault, or a spike) reads the key's version when its service starts and commits when it ends: 409 if another write
/// committed in between, else 200; a write whose service takes no time commits at once, as the live server's does.
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

    /// An attempt reaches the server: its service is drawn under the phase in force now (the live server fixes a
    /// request's plan on arrival), and it is served now, queued, or answered 503.
    mutating func serverArrive(job: Int32) {
        serverCounters.requests += 1
        let admitted = inService < server.serviceLimit
        if admitted || (server.queues && (server.maxQueue == 0 || serverQueue.count < server.maxQueue)) {
            let current = jobs[Int(job)]
            jobs[Int(job)].service = server.service(idHash: current.idHash, attempt: current.attempt, atNs: nowNs)
            if admitted {
                admitToService(job)
            } else {
                serverQueue.push(job)
                serverCounters.peakQueued = max(serverCounters.peakQueued, serverQueue.count)
            }
        } else {
            serverCounters.rejected += 1
            let current = jobs[Int(job)]
            deliver(job, server.overCapacity(idHash: current.idHash, attempt: current.attempt))
            freeJobs.append(job)
        }
    }

    /// Starts a job's service in a free place; a served contention write reads its key's version.
    mutating func admitToService(_ job: Int32) {
        inService += 1
        serverCounters.peakInService = max(serverCounters.peakInService, inService)
        let current = jobs[Int(job)]
        let service = current.service
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
            if current.key >= 0, service.servesEndpoint {
                let seen = contention.version(current.key)
                if service.delayNs <= 0 {
                    // The live server finishes a service of no delay at once: read and commit are one step.
                    jobs[Int(job)].write = contention.commit(current.key, seen: seen)
                } else {
                    jobs[Int(job)].write = .pending
                    jobs[Int(job)].seenVersion = seen
                }
            }
            queue.schedule(.serviceEnd, atNs: nowNs.addingSaturating(service.delayNs), slot: job)
        }
    }

    /// A service ends: a pending contention write commits, the answer leaves for the client, and the freed place
    /// serves the queue.
    mutating func serviceEnd(job: Int32) {
        inService -= 1
        var current = jobs[Int(job)]
        if current.write == .pending {
            current.write = contention.commit(current.key, seen: current.seenVersion)
        }
        let answer =
            current.write == .conflict
            ? ServerModel.conflict : server.answer(current.service, idHash: current.idHash, attempt: current.attempt)
        deliver(job, answer)
        freeJobs.append(job)
        while inService < server.serviceLimit, let next = serverQueue.pop() { admitToService(next) }
    }

    /// Sends `answer` back; it reaches the client after the job's return trip unless the client's timeout comes
    /// first, in which case the work was wasted.
    mutating func deliver(_ job: Int32, _ answer: ServerModel.Answer) {
        let current = jobs[Int(job)]
        let index = Int(current.slot)
        let atNs = nowNs.addingSaturating(current.downNs)
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
