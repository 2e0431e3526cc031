import AsyncHTTPClient
import AsyncPatterns

/// Swift structured concurrency over AsyncHTTPClient: `concurrency` worker tasks in a discarding task group
/// pull logical request ids from a shared counter, so at most `concurrency` requests are in flight. The
/// client's pool allows `concurrency` connections, so no request waits for a connection. Same model as
/// `AsyncEngine` with a general-purpose HTTP client, to measure what the library costs.
public struct AsyncAHCEngine: Engine {
    /// Creates the engine.
    public init() {}

    /// `.asyncAHC`.
    public var kind: EngineKind { .asyncAHC }

    /// Runs every logical request. Cancelling the calling task stops new attempts; attempts in flight get a
    /// grace period (`configuration.shutdownGrace`), then are cancelled. Every request still gets one final sample.
    /// - Throws: `FileDescriptorLimitError` when the OS refuses enough open files for the concurrency.
    public func run(
        _ configuration: EngineConfiguration, policy: any AttemptPolicy, sink: any SampleSink
    ) async throws -> EngineRunSummary {
        precondition(configuration.concurrency >= 1, "concurrency must be at least 1")
        try FileDescriptorLimit.raise(toAtLeast: configuration.concurrency * 2 + 64)
        let workers = RunControl.workerCount(for: configuration)
        let control = RunControl(configuration: configuration, workers: workers, policy: policy, sink: sink)
        let transport = AsyncHTTPTransport(configuration: configuration, clock: control.clock)

        // The workers run in their own task: see `RunControl.awaitWithGrace`.
        let work = Task {
            await withDiscardingTaskGroup { group in
                for _ in 0..<workers {
                    group.addTask {
                        var worker = RunControl.Worker()
                        while let ticket = await control.take(&worker) {
                            await control.driveAsync(ticket) { attempt in
                                await transport.send(requestID: Int64(ticket.id), attempt: attempt)
                            }
                        }
                    }
                }
            }
        }
        await control.awaitWithGrace(work)
        try? await transport.client.shutdown()
        return control.summary()
    }
}
