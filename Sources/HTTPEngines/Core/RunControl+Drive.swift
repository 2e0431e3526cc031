import AsyncPatterns
import Foundation

extension RunControl {
    /// Runs one ticket on the calling OS thread, sleeping with `Thread.sleep`: to its final sample, or, in an
    /// open loop, until a retry's backoff, when the request is parked (see `park`) and the worker is free.
    func driveBlocking(_ ticket: Ticket, send: (Int32) -> TransportResult) {
        if let scheduled = ticket.scheduledNs {
            sleepBlocking(untilNs: scheduled)
            if ticket.parked == nil { recordLateness(clock.now() - scheduled) }
        }
        var request = ticket.parked ?? makeRequest(ticket)
        var action = request.begin(nowNs: clock.now(), stopping: isStopping)
        while true {
            switch action {
            case .send(let attempt):
                action = request.attemptEnded(sendThroughGateBlocking(attempt, &request, send))
            case .sleep(let untilNs):
                if parksRetries(request) {
                    park(request, untilNs: untilNs)
                    return
                }
                sleepBlocking(untilNs: untilNs)
                action = request.begin(nowNs: clock.now(), stopping: isStopping)
            case .finished:
                finished(request)
                return
            }
        }
    }

    /// Runs one ticket in the current task, sleeping with `Task.sleep`: to its final sample, or, in an open loop,
    /// until a retry's backoff, when the request is parked (see `park`) and the worker is free.
    func driveAsync(_ ticket: Ticket, send: (Int32) async -> TransportResult) async {
        if let scheduled = ticket.scheduledNs {
            await sleepAsync(untilNs: scheduled)
            if ticket.parked == nil { recordLateness(clock.now() - scheduled) }
        }
        var request = ticket.parked ?? makeRequest(ticket)
        var action = request.begin(nowNs: clock.now(), stopping: isStopping || Task.isCancelled)
        while true {
            switch action {
            case .send(let attempt):
                action = request.attemptEnded(await sendThroughGate(attempt, &request, send))
            case .sleep(let untilNs):
                if parksRetries(request) {
                    park(request, untilNs: untilNs)
                    return
                }
                await sleepAsync(untilNs: untilNs)
                action = request.begin(nowNs: clock.now(), stopping: isStopping || Task.isCancelled)
            case .finished:
                finished(request)
                return
            }
        }
    }

    /// Starts the state machine for a new ticket.
    private func makeRequest(_ ticket: Ticket) -> LogicalRequest {
        LogicalRequest(
            requestID: Int64(ticket.id), intendedNs: ticket.scheduledNs ?? Int64.max, isWarmup: ticket.isWarmup,
            policy: policy, sink: sink)
    }

    /// Whether a retry's backoff frees the worker: in the open loops, where `concurrency` caps requests in flight
    /// and a backoff is not in flight. A closed-loop worker is a user who waits; a warm-up request keeps its worker,
    /// since the barrier waits for it anyway.
    private func parksRetries(_ request: LogicalRequest) -> Bool {
        isOpenLoop && !request.isWarmup
    }

    /// Waits for an async engine's workers. Cancelling the caller does not cancel requests in flight at once: it
    /// stops new attempts, and only after the shutdown grace period cancels `work`.
    func awaitWithGrace(_ work: Task<Void, Never>) async {
        await withTaskCancellationHandler {
            await work.value
        } onCancel: {
            stop()
            Task {
                try? await Task.sleep(for: .nanoseconds(shutdownGraceNs))
                work.cancel()
            }
        }
    }

    /// Sends `attempt` holding the policy's gate, if any: blocks for a permit first and returns it when `send`
    /// returns. When no permit comes in time the attempt is not sent and its result is `.limiterTimeout` (or
    /// `.cancelled` when the run is stopping), spanning the wait.
    private func sendThroughGateBlocking(
        _ attempt: Int32, _ request: inout LogicalRequest, _ send: (Int32) -> TransportResult
    ) -> TransportResult {
        guard let gate else { return send(attempt) }
        let waitStartNs = clock.now()
        request.readyToSend(atNs: waitStartNs)
        guard gate.enterBlocking() else {
            return unsentResult(sinceNs: waitStartNs, isStopping ? .cancelled : .limiterTimeout)
        }
        defer { gate.leave() }
        // The run may have stopped while this attempt waited: it must not start now.
        if isStopping { return unsentResult(sinceNs: waitStartNs, .cancelled) }
        return send(attempt)
    }

    /// Sends `attempt` holding the policy's gate, if any: waits for a permit first and returns it when `send`
    /// returns. When no permit comes in time the attempt is not sent and its result is `.limiterTimeout` (or
    /// `.cancelled` when the run is stopping or the task is cancelled), spanning the wait.
    private func sendThroughGate(
        _ attempt: Int32, _ request: inout LogicalRequest, _ send: (Int32) async -> TransportResult
    ) async -> TransportResult {
        guard let gate else { return await send(attempt) }
        let waitStartNs = clock.now()
        request.readyToSend(atNs: waitStartNs)
        guard await gate.enter() else {
            return unsentResult(sinceNs: waitStartNs, isStopping || Task.isCancelled ? .cancelled : .limiterTimeout)
        }
        defer { gate.leave() }
        if isStopping || Task.isCancelled { return unsentResult(sinceNs: waitStartNs, .cancelled) }
        return await send(attempt)
    }

    /// The result of an attempt that was never sent: from `sinceNs` to now, no status, no bytes.
    private func unsentResult(sinceNs: Int64, _ errorClass: ErrorClass) -> TransportResult {
        TransportResult(startNs: sinceNs, endNs: clock.now(), status: 0, errorClass: errorClass, bytes: 0)
    }

    /// Blocks the thread until the run clock reaches `untilNs` or the run stops.
    private func sleepBlocking(untilNs: Int64) {
        while !isStopping {
            let remaining = untilNs - clock.now()
            if remaining <= 0 { return }
            // Sleep in slices of at most 50 ms so that a stop is noticed promptly.
            Thread.sleep(forTimeInterval: Double(min(remaining, 50_000_000)) / 1e9)
        }
    }

    /// Suspends the task until the run clock reaches `untilNs`, the run stops, or the task is cancelled.
    private func sleepAsync(untilNs: Int64) async {
        while !isStopping, !Task.isCancelled {
            let remaining = untilNs - clock.now()
            if remaining <= 0 { return }
            try? await Task.sleep(for: .nanoseconds(min(remaining, 50_000_000)))
        }
    }
}
