import AsyncPatterns

/// The run loop shared by the sync and threaded engines: `workers` OS threads, each with its own libcurl
/// handle, pulling logical request ids from the shared counter until none are left.
enum BlockingRun {
    /// Runs the configuration on `workers` threads and returns the summary.
    /// - Throws: `CurlError` when libcurl cannot be initialised; `ThreadCreationError` when the OS refuses a
    ///   thread (the threads that started end the remaining requests as `.cancelled` first).
    ///   `CancellationError` is never thrown: a cancelled run ends its remaining requests as `.cancelled` and
    ///   returns normally.
    static func run(
        _ configuration: EngineConfiguration, workers: Int, name: String, policy: any AttemptPolicy,
        sink: any SampleSink
    ) async throws -> EngineRunSummary {
        try CurlGlobal.ensureInitialized()
        if workers > 1 { try FileDescriptorLimit.raise(toAtLeast: workers * 2 + 64) }
        let control = RunControl(configuration: configuration, workers: workers, policy: policy, sink: sink)
        let url = configuration.baseURL + configuration.path
        try await withTaskCancellationHandler {
            try await ThreadGroup.run(count: workers, name: name, refused: { control.stop() }) { _ in
                worker(control: control, url: url)
            }
        } onCancel: {
            control.stop()
        }
        return control.summary()
    }

    private static func worker(control: RunControl, url: String) {
        let client: CurlEasyClient?
        do {
            client = try CurlEasyClient(url: url, configuration: control.configuration, clock: control.clock) {
                control.isAborting
            }
        } catch {
            client = nil
        }
        var worker = RunControl.Worker()
        while let ticket = control.takeBlocking(&worker) {
            control.driveBlocking(ticket) { attempt in
                guard let client else {
                    let now = control.clock.now()
                    return TransportResult(startNs: now, endNs: now, status: 0, errorClass: .other, bytes: 0)
                }
                return client.send(requestID: Int64(ticket.id), attempt: attempt)
            }
        }
    }
}
