/// The policy's gate, as the engines hold it around each sent attempt (`RunControl+Drive`): an admitted attempt
/// takes a permit of the library's own `ConcurrencyLimiter` or waits for one in FIFO order; a wait longer than the
/// acquire timeout ends the attempt unsent as `.limiterTimeout` (spanning the wait), which the policy then hears
/// of. A sent attempt returns its permit when its end is seen, before the policy decides what follows.
extension Simulator {
    /// The slot's admitted attempt is ready to send: it takes a permit now, or queues for one.
    mutating func enterGate(_ slot: Int32) {
        guard let limiter else { return send(slot) }
        let index = Int(slot)
        // As `LogicalRequest.readyToSend`: a wait counts from now unless the attempt was meant to start earlier.
        slots[index].intendedNs = min(slots[index].intendedNs, nowNs)
        if gateWaiters.first == nil, limiter.tryAcquire() { return send(slot) }
        gateWaits += 1
        slots[index].token &+= 1
        slots[index].startNs = nowNs
        slots[index].waitingForGate = true
        gateWaiters.push((slot, slots[index].token))
        if let acquireTimeoutNs {
            queue.schedule(
                .gateTimeout, atNs: nowNs.addingSaturating(acquireTimeoutNs), slot: slot, token: slots[index].token)
        }
    }

    /// A sent attempt ended: its permit goes back, and waiting attempts take the free permits in order.
    mutating func leaveGate() {
        guard let limiter else { return }
        limiter.release()
        while let waiter = gateWaiters.first {
            let slot = waiter.slot
            let index = Int(slot)
            guard slots[index].waitingForGate, slots[index].token == waiter.token else {
                _ = gateWaiters.pop()  // it timed out meanwhile
                continue
            }
            guard limiter.tryAcquire() else { return }
            _ = gateWaiters.pop()
            slots[index].waitingForGate = false
            send(slot)
        }
    }

    /// A wait for a permit timed out: the attempt ends unsent as `.limiterTimeout`, and the policy decides.
    mutating func gateTimeoutEvent(slot: Int32, token: UInt32) {
        let index = Int(slot)
        guard slots[index].waitingForGate, slots[index].token == token else { return }
        gateTimeouts += 1
        slots[index].waitingForGate = false
        slots[index].endNs = nowNs
        slots[index].status = 0
        slots[index].errorClass = .limiterTimeout
        slots[index].retryAfterSeconds = -1
        attemptEnded(slot)
    }
}
