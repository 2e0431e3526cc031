import AsyncPatterns
import Foundation
import LabStore

/// The resilience settings of a cell: the spec's `resilience` object, with the cell's `backoff`,
/// `maxAttempts`, `baseMs`, `capMs`, `budget`, `breaker`, `throttle`, `limiter` and `acquireTimeoutMs` parameters
/// laid over it. A cell parameter always wins: `off` turns a pattern off even when the spec's `resilience` object sets
/// it, and the spec's object supplies only the settings no parameter names (for example `throttle.windowMs`).
struct ResilienceSettings {
    let cell: CellPlan
    /// The spec's `resilience` settings, `ExperimentSpec.resilience`.
    let base: ResilienceConfiguration

    init(cell: CellPlan, base: ResilienceConfiguration) {
        self.cell = cell
        self.base = base
    }

    /// Settings over a `resilience` object given as JSON text. Throws `DecodingError` when it does not decode.
    init(cell: CellPlan, baseJSON: String) throws {
        self.init(cell: cell, base: try JSONDecoder().decode(ResilienceConfiguration.self, from: Data(baseJSON.utf8)))
    }

    /// The configuration the cell runs with.
    func configuration() throws -> ResilienceConfiguration {
        var configuration = base
        let backoff = cell[.backoff].description
        if backoff == "off" {
            configuration.retry = nil
        } else {
            var retry = configuration.retry ?? ResilienceConfiguration.Retry()
            retry.backoff = ResilienceConfiguration.Retry.Backoff(rawValue: backoff) ?? retry.backoff
            retry.maxAttempts = Int(cell[.maxAttempts].number ?? Double(retry.maxAttempts))
            retry.baseMs = cell[.baseMs].number ?? retry.baseMs
            retry.capMs = cell[.capMs].number ?? retry.capMs
            configuration.retry = retry
        }
        switch RetryBudgetSetting(cell[.budget].description) ?? RetryBudgetSetting.none {
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
        if cell[.breaker] == .string("on") {
            configuration.breaker = configuration.breaker ?? ResilienceConfiguration.Breaker()
        } else {
            configuration.breaker = nil
        }
        switch ThrottleSetting(cell[.throttle].description) ?? .off {
        case .off:
            configuration.throttle = nil
        case .k(let k):
            var throttle = configuration.throttle ?? ResilienceConfiguration.Throttle()
            throttle.k = k
            configuration.throttle = throttle
        }
        switch LimiterSetting(cell[.limiter].description) ?? .off {
        case .off:
            configuration.limiter = nil
        case .limit(let limit):
            var limiter = configuration.limiter ?? ResilienceConfiguration.Limiter()
            limiter.limit = limit
            // A number wins; `none` (the default) keeps the spec's `resilience.limiter.acquireTimeoutMs`, itself
            // unset (wait forever) unless given. The cell checks refuse a spec that sets both.
            if let ms = AcquireTimeoutSetting(cell[.acquireTimeoutMs])?.milliseconds {
                limiter.acquireTimeoutMs = ms
            }
            configuration.limiter = limiter
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
    /// event whose value is the peak of permits held), for the `events` table. Their times count from `origin` (the
    /// engine's, which its samples count from) when given, else from when the policy was made.
    func events(origin: ContinuousClock.Instant? = nil) -> [EventRecord] {
        guard let resilience else { return [] }
        let shiftNs = origin.map { createdAt.duration(to: $0).nanoseconds } ?? 0
        let events = EventRecord.policyEvents(
            resilience.drainEvents(), snapshot: resilience.snapshot(), endNs: createdAt.duration(to: .now).nanoseconds)
        return events.map { event in
            var event = event
            event.tNs -= shiftNs
            return event
        }
    }
}

extension EventRecord {
    /// A policy's events (breaker transitions, budget refusals) for the `events` table, then, with a limiter, a
    /// `limiter` event at `endNs` whose value is the peak of permits held.
    static func policyEvents(_ events: [ResilienceEvent], snapshot: ResilienceSnapshot, endNs: Int64) -> [EventRecord] {
        var records = events.map { EventRecord(tNs: $0.at.nanoseconds, kind: EventKind($0.kind), detail: $0.detail) }
        if let limit = snapshot.limiterLimit {
            records.append(
                EventRecord(
                    tNs: endNs, kind: .limiter, value: Double(snapshot.limiterPeak),
                    detail: "limit \(limit), peak \(snapshot.limiterPeak), waits \(snapshot.limiterWaits), "
                        + "timeouts \(snapshot.limiterTimeouts)"))
        }
        return records
    }
}
