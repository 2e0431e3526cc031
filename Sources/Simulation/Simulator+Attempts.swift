import AsyncPatterns

/// One logical request's attempts, following the protocol every engine follows (`LogicalRequest`): ask the policy
/// to admit each attempt (a rejection ends the request with an unsent final sample), send it, report its outcome,
/// and carry out the decision: finish, retry after the delay, or give up with one more unsent final sample.
extension Simulator {
    /// Asks the policy to admit the slot's current attempt, then sends it, or ends the request.
    mutating func begin(_ slot: Int32) {
        if let policy = unretainedPolicy {
            let (requestID, attempt) = (slots[Int(slot)].requestID, slots[Int(slot)].attempt)
            let admission = policy._withUnsafeGuaranteedRef { $0.admit(requestID: requestID, attempt: attempt) }
            if case .reject(let errorClass) = admission {
                emitUnsent(slot, errorClass, atNs: nowNs)
                finish(slot)
                return
            }
        }
        if limiter != nil {
            enterGate(slot)
        } else {
            send(slot)
        }
    }

    /// Sends the slot's current attempt now, with its own round trip. When the server is not served by events its
    /// whole fate is known at once (the server starts serving it on arrival) and one event marks its end; otherwise
    /// its arrival and its timeout are events, and the server decides on arrival (`Simulator+Server`).
    mutating func send(_ slot: Int32) {
        let index = Int(slot)
        slots[index].startNs = nowNs
        slots[index].token &+= 1
        slots[index].awaiting = true
        let token = slots[index].token
        let idHash = slots[index].idHash
        let attempt = slots[index].attempt
        let trip = network.trip(idHash: idHash, attempt: attempt)
        let arriveNs = nowNs.addingSaturating(trip.upNs)
        if servesByEvents {
            let job = allocateJob(
                ServerJob(
                    slot: slot, token: token, attempt: attempt, idHash: idHash, downNs: trip.downNs,
                    key: contentionKey))
            queue.schedule(.serverArrive, atNs: arriveNs, slot: job)
            queue.schedule(.timeout, atNs: nowNs.addingSaturating(timeoutNs), slot: slot, token: token)
            return
        }
        serverCounters.requests += 1
        let service = server.service(idHash: idHash, attempt: attempt, atNs: arriveNs)
        var answer = server.answer(service, idHash: idHash, attempt: attempt)
        var endNs: Int64
        switch service.fault {
        case .hang?: endNs = .max
        case .reset?: endNs = arriveNs.addingSaturating(trip.downNs)
        default: endNs = arriveNs.addingSaturating(service.delayNs).addingSaturating(trip.downNs)
        }
        let deadlineNs = nowNs.addingSaturating(timeoutNs)
        if endNs >= deadlineNs {
            // The server's work (a service, or a reset) ends after the client gave up; a hang does no work.
            if service.fault != .hang { serverCounters.wasted += 1 }
            endNs = deadlineNs
            answer = ServerModel.Answer(status: 0, errorClass: .timeout, retryAfterSeconds: -1)
        }
        slots[index].endNs = endNs
        slots[index].status = answer.status
        slots[index].errorClass = answer.errorClass
        slots[index].retryAfterSeconds = answer.retryAfterSeconds
        queue.schedule(.attemptEnd, atNs: endNs, slot: slot, token: token)
    }

    /// The client sees the end of an attempt whose result is in the slot; stale events (an attempt that already
    /// ended by its timeout) are dropped.
    mutating func attemptEndEvent(slot: Int32, token: UInt32) {
        let index = Int(slot)
        guard slots[index].token == token, slots[index].awaiting else { return }
        slots[index].awaiting = false
        if limiter != nil { leaveGate() }
        attemptEnded(slot)
    }

    /// Reports the ended attempt to the policy and carries out its decision.
    mutating func attemptEnded(_ slot: Int32) {
        let index = Int(slot)
        guard let policy = unretainedPolicy else {
            emit(slot, isFinal: true)
            finish(slot)
            return
        }
        let current = slots[index]
        let outcome = AttemptOutcome(
            errorClass: current.errorClass, status: Int(current.status),
            duration: .nanoseconds(current.endNs - current.startNs),
            retryAfter: current.retryAfterSeconds >= 0 ? String(current.retryAfterSeconds) : nil)
        let decision = policy._withUnsafeGuaranteedRef {
            $0.complete(requestID: current.requestID, attempt: current.attempt, outcome: outcome)
        }
        switch decision {
        case .finish:
            emit(slot, isFinal: true)
            finish(slot)
        case .retry(let delay):
            emit(slot, isFinal: false)
            let dueNs = current.endNs.addingSaturating(max(0, VirtualClock.nanoseconds(delay)))
            slots[index].attempt += 1
            slots[index].intendedNs = dueNs
            // In the open loops a backoff holds no worker; a closed-loop worker (and a warm-up one) waits it out.
            if isOpenLoop && !current.isWarmup {
                slots[index].worker = -1
                pendingWorkers.push(current.worker)
            }
            queue.schedule(.begin, atNs: dueNs, slot: slot)
        case .giveUp(let errorClass):
            emit(slot, isFinal: false)
            slots[index].attempt += 1
            slots[index].intendedNs = current.endNs
            emitUnsent(slot, errorClass, atNs: current.endNs)
            finish(slot)
        }
    }

    /// Records the slot's current attempt as it ended.
    @inline(__always)
    mutating func emit(_ slot: Int32, isFinal: Bool) {
        let current = slots[Int(slot)]
        samples.append(
            AttemptSample(
                requestID: current.requestID, attempt: current.attempt,
                intendedNs: min(current.intendedNs, current.startNs), startNs: current.startNs, endNs: current.endNs,
                status: current.status, errorClass: current.errorClass, bytes: 0, isFinal: isFinal,
                isWarmup: current.isWarmup))
    }

    /// Records the slot's current attempt as never sent, ending the request with `errorClass` at `atNs`.
    mutating func emitUnsent(_ slot: Int32, _ errorClass: ErrorClass, atNs: Int64) {
        let current = slots[Int(slot)]
        samples.append(
            AttemptSample(
                requestID: current.requestID, attempt: current.attempt, intendedNs: min(current.intendedNs, atNs),
                startNs: atNs, endNs: atNs, status: 0, errorClass: errorClass, bytes: 0, isFinal: true,
                isWarmup: current.isWarmup))
    }
}
