import AsyncPatterns
import Foundation

extension RunControl {
    /// Runs one logical request to its final sample on the calling OS thread, sleeping with `Thread.sleep`.
    func driveBlocking(_ ticket: Ticket, send: (Int32) -> TransportResult) {
        if let scheduled = ticket.scheduledNs {
            sleepBlocking(untilNs: scheduled)
            recordLateness(clock.now() - scheduled)
        }
        var request = makeRequest(ticket)
        var action = request.begin(nowNs: clock.now(), stopping: isStopping)
        while true {
            switch action {
            case .send(let attempt):
                action = request.attemptEnded(sendThroughGateBlocking(attempt, &request, send))
            case .sleep(let untilNs):
                sleepBlocking(untilNs: untilNs)
                action = request.begin(nowNs: clock.now(), stopping: isStopping)
            case .finished:
                finishedOne()
                return
            }
        }
    }

    /// Runs one logical request to its final sample in the current task, sleeping with `Task.sleep`.
    func driveAsync(_ ticket: Ticket, send: (Int32) async -> TransportResult) async {
        if let scheduled = ticket.scheduledNs {
            await sleepAsync(untilNs: scheduled)
            recordLateness(clock.now() - scheduled)
        }
        var request = makeRequest(ticket)
        var action = request.begin(nowNs: clock.now(), stopping: isStopping || Task.isCancelled)
        while true {
            switch action {
            case .send(let attempt):
                action = request.attemptEnded(await sendThroughGate(attempt, &request, send))
            case .sleep(let untilNs):
                await sleepAsync(untilNs: untilNs)
                action = request.begin(nowNs: clock.now(), stopping: isStopping || Task.isCancelled)
            case .finished:
                finishedOne()
                return
            }
        }
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
