import AsyncPatterns
import Foundation
import LabStore

/// The resilience settings of a cell: the spec's `resilience` object, with the cell's `backoff`,
/// `maxAttempts`, `baseMs`, `capMs`, `budget` and `breaker` parameters laid over it.
struct ResilienceSettings {
    let cell: CellPlan
    let baseJSON: String

    /// The configuration the cell runs with.
    func configuration() throws -> ResilienceConfiguration {
        var configuration = try JSONDecoder().decode(ResilienceConfiguration.self, from: Data(baseJSON.utf8))
        let backoff = cell["backoff"].description
        if backoff == "off" {
            configuration.retry = nil
        } else {
            var retry = configuration.retry ?? ResilienceConfiguration.Retry()
            retry.backoff = ResilienceConfiguration.Retry.Backoff(rawValue: backoff) ?? retry.backoff
            retry.maxAttempts = Int(cell["maxAttempts"].number ?? Double(retry.maxAttempts))
            retry.baseMs = cell["baseMs"].number ?? retry.baseMs
            retry.capMs = cell["capMs"].number ?? retry.capMs
            configuration.retry = retry
        }
        switch RetryBudgetSetting(cell["budget"].description) ?? RetryBudgetSetting.none {
        case .none:
            configuration.budget = nil
        case .token(let maxTokens):
            var budget = configuration.budget ?? ResilienceConfiguration.Budget()
            budget.kind = .tokenBucket
            budget.maxTokens = maxTokens
            configuration.budget = budget
        case .ratio(let ratio):
            var budget = configuration.budget ?? ResilienceConfiguration.Budget()
            budget.kind = .ratio
            budget.ratio = ratio
            configuration.budget = budget
        }
        if cell["breaker"] == .string("on") {
            configuration.breaker = configuration.breaker ?? ResilienceConfiguration.Breaker()
        } else {
            configuration.breaker = nil
        }
        try configuration.validate()
        return configuration
    }

    /// The attempt policy the engine runs with, seeded with the cell's seed.
    func policy(seed: UInt64) throws -> CellPolicy {
        let configuration = try configuration()
        if configuration == ResilienceConfiguration.none {
            return CellPolicy(base: SingleAttemptPolicy(), resilience: nil)
        }
        let policy = try ResiliencePolicy(configuration: configuration, seed: seed)
        return CellPolicy(base: policy, resilience: policy)
    }
}

/// An attempt policy plus the events it logged, for the store.
struct CellPolicy: AttemptPolicy {
    let base: any AttemptPolicy
    let resilience: ResiliencePolicy<ContinuousClock>?
    /// When the policy was made, just before the cell's run: the origin of the limiter event's time.
    let createdAt = ContinuousClock.now

    /// The base policy's gate (the cell's concurrency limiter), read once by the engine.
    var gate: (any AttemptGate)? { base.gate }

    func admit(requestID: Int64, attempt: Int32) -> Admission {
        base.admit(requestID: requestID, attempt: attempt)
    }

    func complete(requestID: Int64, attempt: Int32, outcome: AttemptOutcome) -> AttemptDecision {
        base.complete(requestID: requestID, attempt: attempt, outcome: outcome)
    }

    /// Breaker transitions and budget refusals since the policy was made, then the limiter's figures (a `limiter`
    /// event whose value is the peak of permits held), for the `events` table.
    func events() -> [EventRecord] {
        guard let resilience else { return [] }
        var events = resilience.drainEvents().map {
            EventRecord(tNs: $0.at.nanoseconds, kind: $0.kind, detail: $0.detail)
        }
        let snapshot = resilience.snapshot()
        if let limit = snapshot.limiterLimit {
            events.append(
                EventRecord(
                    tNs: createdAt.duration(to: .now).nanoseconds, kind: ResilienceEvent.limiter,
                    value: Double(snapshot.limiterPeak),
                    detail: "limit \(limit), peak \(snapshot.limiterPeak), waits \(snapshot.limiterWaits), "
                        + "timeouts \(snapshot.limiterTimeouts)"))
        }
        return events
    }
}
