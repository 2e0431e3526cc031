import AsyncPatterns
import NIOCore
import NIOPosix

/// Swift structured concurrency over SwiftNIO: `concurrency` worker tasks in a discarding task group pull
/// logical request ids from a shared counter, so at most `concurrency` requests are in flight. Each worker owns
/// one HTTP/1.1 connection (a new one per request when naive) on one of the first shared event loops, and runs with
/// that loop as its task executor, so a response resumes its task on the thread that read it.
public struct AsyncEngine: Engine {
    /// Creates the engine.
    public init() {}

    /// `.async`.
    public var kind: EngineKind { .async }

    /// Event loops when the configuration does not say: one per CPU, less one for the mock server when there are
    /// two or more. On 2 cores one loop sends ~25% more requests per second at 0 ms latency than two, which
    /// compete with the server for its core.
    public static var defaultEventLoops: Int {
        let cores = System.coreCount
        return cores >= 2 ? cores - 1 : 1
    }

    /// Runs every logical request. Cancelling the calling task stops new attempts; attempts in flight get a
    /// grace period (`configuration.shutdownGrace`), then are cancelled. Every request still gets one final sample.
    /// - Throws: `FileDescriptorLimitError` when the OS refuses enough open files for the concurrency;
    ///   `HTTPTargetError` when the base URL is not `http://HOST[:PORT]` or the host does not resolve.
    public func run(
        _ configuration: EngineConfiguration, policy: any AttemptPolicy, sink: any SampleSink
    ) async throws -> EngineRunSummary {
        precondition(configuration.concurrency >= 1, "concurrency must be at least 1")
        try FileDescriptorLimit.raise(toAtLeast: configuration.concurrency * 2 + 64)
        let target = try HTTPTarget(baseURL: configuration.baseURL, path: configuration.path)
        let workers = RunControl.workerCount(for: configuration)
        let control = RunControl(configuration: configuration, workers: workers, policy: policy, sink: sink)
        // The first loops of the shared group, so that lag monitors and pinning see them; a dedicated group only
        // when more loops are asked for than the shared group has.
        let loopCount = max(1, configuration.eventLoops ?? Self.defaultEventLoops)
        let shared = Array(MultiThreadedEventLoopGroup.singleton.makeIterator())
        let dedicated = loopCount > shared.count ? MultiThreadedEventLoopGroup(numberOfThreads: loopCount) : nil
        let loops = dedicated.map { Array($0.makeIterator()) } ?? Array(shared.prefix(loopCount))
        let executors = loops.map(EventLoopTaskExecutor.init)

        // The workers run in their own task: see `RunControl.awaitWithGrace`.
        let work = Task {
            await withDiscardingTaskGroup { group in
                for worker in 0..<workers {
                    let executor = executors[worker % executors.count]
                    group.addTask(executorPreference: executor) {
                        let slot = HTTPConnectionSlot(
                            target: target, eventLoop: executor.eventLoop, clock: control.clock,
                            connectTimeout: configuration.connectTimeout,
                            requestTimeout: configuration.requestTimeout, naive: configuration.pooling == .naive)
                        var worker = RunControl.Worker()
                        while let ticket = await control.take(&worker) {
                            await control.driveAsync(ticket) { attempt in
                                await slot.send(requestID: Int64(ticket.id), attempt: attempt)
                            }
                        }
                        slot.close()
                    }
                }
            }
        }
        await control.awaitWithGrace(work)
        try? await dedicated?.shutdownGracefully()
        return control.summary()
    }
}
