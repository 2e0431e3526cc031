import AsyncPatterns

/// One dedicated OS thread sends the requests one after another over one reused libcurl easy handle.
///
/// `configuration.concurrency` is ignored: the sync model has exactly one request in flight.
public struct SyncEngine: Engine {
    /// Creates the engine.
    public init() {}

    /// `.sync`.
    public var kind: EngineKind { .sync }

    /// Runs every logical request on one thread. Cancelling the calling task stops new attempts; attempts in
    /// flight get a grace period, then end as `.cancelled`. Every request still gets one final sample.
    /// - Throws: `CurlError` when libcurl cannot be initialised.
    public func run(
        _ configuration: EngineConfiguration, policy: any AttemptPolicy, sink: any SampleSink
    ) async throws -> EngineRunSummary {
        try await BlockingRun.run(configuration, workers: 1, name: "sync", policy: policy, sink: sink)
    }
}
