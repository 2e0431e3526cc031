import AsyncPatterns
import LabStore

/// The resilience settings of a cell, from its `backoff`, `maxAttempts`, `baseMs`, `capMs`, `budget` and
/// `breaker` parameters.
struct ResilienceSettings {
    let cell: CellPlan

    /// The attempt policy the engine runs with.
    func policy(seed: UInt64) throws -> CellPolicy {
        CellPolicy(base: SingleAttemptPolicy())
    }
}

/// An attempt policy plus the events it logged, for the store.
struct CellPolicy: AttemptPolicy {
    let base: any AttemptPolicy

    func admit(requestID: Int64, attempt: Int32) -> Admission {
        base.admit(requestID: requestID, attempt: attempt)
    }

    func complete(requestID: Int64, attempt: Int32, outcome: AttemptOutcome) -> AttemptDecision {
        base.complete(requestID: requestID, attempt: attempt, outcome: outcome)
    }

    /// Breaker transitions and budget refusals, for the `events` table.
    func events() -> [EventRecord] { [] }
}
