import AsyncPatterns

/// The attempt loop of one logical request as a pure state machine, shared by every engine.
///
/// An engine calls `begin` before each attempt, carries out the returned action (send, wait or stop) and
/// reports each sent attempt with `attemptEnded`. The machine asks the `AttemptPolicy`, emits exactly one
/// sample per attempt into the sink, and marks exactly one of them final.
struct LogicalRequest {
    /// What the engine must do next.
    enum Action: Equatable {
        /// Send attempt `attempt` now.
        case send(attempt: Int32)
        /// Wait until this run-clock time (ns), then call `begin` again: sleep, or, in an open loop, park the
        /// request so that the worker is free meanwhile (`RunControl.park`).
        case sleep(untilNs: Int64)
        /// The logical request has its final sample.
        case finished
    }

    let requestID: Int64
    let isWarmup: Bool
    /// The attempt about to be sent or just sent, from 1.
    private(set) var attempt: Int32 = 1
    /// When the current attempt was meant to start, in ns: the schedule for attempt 1, the end of the
    /// backoff for later attempts.
    private(set) var intendedNs: Int64
    private let policy: any AttemptPolicy
    private let sink: any SampleSink

    init(requestID: Int64, intendedNs: Int64, isWarmup: Bool, policy: any AttemptPolicy, sink: any SampleSink) {
        self.requestID = requestID
        self.intendedNs = intendedNs
        self.isWarmup = isWarmup
        self.policy = policy
        self.sink = sink
    }

    /// Asks for admission of the current attempt. A stopping run ends the request as `.cancelled`.
    mutating func begin(nowNs: Int64, stopping: Bool) -> Action {
        if stopping {
            emitUnsent(.cancelled, atNs: nowNs)
            return .finished
        }
        switch policy.admit(requestID: requestID, attempt: attempt) {
        case .proceed:
            return .send(attempt: attempt)
        case .reject(let errorClass):
            emitUnsent(errorClass, atNs: nowNs)
            return .finished
        }
    }

    /// Notes that the engine was ready to send the current attempt at `nowNs`, before waiting for a gate (such as
    /// a concurrency limiter): a closed-loop first attempt then counts its wait from there. Earlier intended
    /// times (a schedule, the end of a backoff) are kept.
    mutating func readyToSend(atNs nowNs: Int64) {
        intendedNs = min(intendedNs, nowNs)
    }

    /// Records the current attempt's result and decides what happens next.
    mutating func attemptEnded(_ result: TransportResult) -> Action {
        if result.errorClass == .cancelled {
            // The engine is shutting down: no policy decision, this attempt is the outcome.
            emit(result, isFinal: true)
            return .finished
        }
        let outcome = AttemptOutcome(
            errorClass: result.errorClass, status: result.status,
            duration: .nanoseconds(result.endNs - result.startNs), retryAfter: result.retryAfter)
        switch policy.complete(requestID: requestID, attempt: attempt, outcome: outcome) {
        case .finish:
            emit(result, isFinal: true)
            return .finished
        case .retry(let delay):
            emit(result, isFinal: false)
            attempt += 1
            intendedNs = result.endNs + max(0, RunClock.nanoseconds(delay))
            return .sleep(untilNs: intendedNs)
        case .giveUp(let errorClass):
            emit(result, isFinal: false)
            attempt += 1
            intendedNs = result.endNs
            emitUnsent(errorClass, atNs: result.endNs)
            return .finished
        }
    }

    private func emit(_ result: TransportResult, isFinal: Bool) {
        sink.record(
            AttemptSample(
                requestID: requestID, attempt: attempt, intendedNs: min(intendedNs, result.startNs),
                startNs: result.startNs, endNs: result.endNs, status: Int32(truncatingIfNeeded: result.status),
                errorClass: result.errorClass, bytes: result.bytes, isFinal: isFinal, isWarmup: isWarmup))
    }

    private func emitUnsent(_ errorClass: ErrorClass, atNs ns: Int64) {
        sink.record(
            AttemptSample(
                requestID: requestID, attempt: attempt, intendedNs: min(intendedNs, ns), startNs: ns, endNs: ns,
                status: 0, errorClass: errorClass, bytes: 0, isFinal: true, isWarmup: isWarmup))
    }
}
