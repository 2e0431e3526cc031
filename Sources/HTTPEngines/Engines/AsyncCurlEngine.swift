import AsyncPatterns

/// Swift structured concurrency over libcurl's multi interface: `concurrency` worker tasks, each owning one
/// easy handle, await transfers that one driver thread runs. Beside `AsyncEngine` it isolates the concurrency
/// model from the HTTP library (AsyncHTTPClient costs about 3x libcurl's CPU per request here).
public struct AsyncCurlEngine: Engine {
    /// Creates the engine.
    public init() {}

    /// `.asyncCurl`.
    public var kind: EngineKind { .asyncCurl }

    /// Runs every logical request. Cancelling the calling task stops new attempts; attempts in flight get
    /// `configuration.shutdownGrace`, then are aborted. Every request still gets one final sample.
    /// - Throws: `CurlError` when libcurl cannot be initialised; `FileDescriptorLimitError` when the OS refuses
    ///   enough open files for the concurrency.
    public func run(
        _ configuration: EngineConfiguration, policy: any AttemptPolicy, sink: any SampleSink
    ) async throws -> EngineRunSummary {
        precondition(configuration.concurrency >= 1, "concurrency must be at least 1")
        try FileDescriptorLimit.raise(toAtLeast: configuration.concurrency * 2 + 64)
        let workers = RunControl.workerCount(for: configuration)
        let control = RunControl(configuration: configuration, workers: workers, policy: policy, sink: sink)
        let driver = try CurlMultiDriver(maxConnections: configuration.concurrency) { control.isAborting }
        let url = configuration.baseURL + configuration.path
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                for _ in 0..<workers {
                    group.addTask {
                        let client = try? CurlEasyClient(
                            url: url, configuration: configuration, clock: control.clock
                        ) { control.isAborting }
                        var worker = RunControl.Worker()
                        while let ticket = await control.take(&worker) {
                            await control.driveAsync(ticket) { attempt in
                                guard let client else {
                                    let now = control.clock.now()
                                    return TransportResult(
                                        startNs: now, endNs: now, status: 0, errorClass: .other, bytes: 0)
                                }
                                client.prepare(requestID: Int64(ticket.id), attempt: attempt)
                                return client.finish(await driver.perform(client.easyHandle))
                            }
                        }
                    }
                }
            }
        } onCancel: {
            // Transfers are not cancelled with the task: the progress callback aborts them after the grace.
            control.stop()
        }
        await driver.shutdown()
        return control.summary()
    }
}
