/// A gate every sent attempt passes through, such as a concurrency limiter: an engine enters it before sending an
/// attempt and leaves it when the attempt's result is in. Waiting is bounded by the gate's own timeout.
public protocol AttemptGate: Sendable {
    /// Waits for a permit for at most the gate's timeout. Returns false (no permit held) when the timeout fires or
    /// the task is cancelled first; true means the caller must call `leave()` exactly once.
    func enter() async -> Bool
    /// Blocks the calling thread for a permit for at most the gate's timeout. Returns false (no permit held) when
    /// the timeout fires; true means the caller must call `leave()` exactly once. For blocking engines' threads.
    func enterBlocking() -> Bool
    /// Returns the permit taken by a successful `enter()` or `enterBlocking()`.
    func leave()
}
