import AsyncPatterns

/// `configuration.concurrency` OS threads, each with its own libcurl easy handle, pull logical request ids
/// from a shared atomic counter.
public struct ThreadedEngine: Engine {
    /// Creates the engine.
    public init() {}

    /// `.threaded`.
    public var kind: EngineKind { .threaded }

    /// Runs every logical request on `concurrency` threads (512 KiB stacks; tested at 1024).
    /// - Throws: `CurlError` when libcurl cannot be initialised; `FileDescriptorLimitError` when the OS
    ///   refuses enough open files for the thread count.
    public func run(
        _ configuration: EngineConfiguration, policy: any AttemptPolicy, sink: any SampleSink
    ) async throws -> EngineRunSummary {
        precondition(configuration.concurrency >= 1, "concurrency must be at least 1")
        let workers = RunControl.workerCount(for: configuration)
        return try await BlockingRun.run(
            configuration, workers: workers, name: "threaded", policy: policy, sink: sink)
    }
}
