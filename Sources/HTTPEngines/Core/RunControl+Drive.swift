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
                action = request.attemptEnded(send(attempt))
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
                action = request.attemptEnded(await send(attempt))
            case .sleep(let untilNs):
                await sleepAsync(untilNs: untilNs)
                action = request.begin(nowNs: clock.now(), stopping: isStopping || Task.isCancelled)
            case .finished:
                finishedOne()
                return
            }
        }
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
