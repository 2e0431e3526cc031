import AsyncPatterns

/// The concurrency models the lab compares.
public enum EngineKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// One thread, one blocking libcurl easy handle, requests one after another.
    case sync
    /// N OS threads, each with its own blocking libcurl easy handle, pulling from a shared counter.
    case threaded
    /// Swift structured concurrency over SwiftNIO: N tasks, each with its own HTTP/1.1 connection, running on
    /// the connection's event loop; at most N requests in flight.
    case async
    /// Swift structured concurrency over AsyncHTTPClient, at most N requests in flight. Same model as `async`
    /// with a general-purpose HTTP client, to measure what the library costs.
    case asyncAHC = "async_ahc"
    /// Swift structured concurrency over libcurl's multi interface (one driver thread), at most N in flight.
    /// Same model as `async` with the HTTP library of `sync` and `threaded`, to separate the two effects.
    case asyncCurl = "async_curl"
}

/// Whether connections are reused.
public enum Pooling: String, Sendable, Hashable, Codable, CaseIterable {
    /// Reuse connections (keep-alive).
    case pooled
    /// A new connection for every request.
    case naive
}

/// How requests are started.
public enum LoadModel: Sendable, Hashable, Codable {
    /// A fixed number of workers; each sends its next request when its last one ends.
    case closed
    /// Requests start on a fixed-interval schedule at `rate` requests per second.
    case openFixed(rate: Double)
    /// Requests start as a Poisson process at `rate` requests per second, from the seeded generator.
    case openPoisson(rate: Double)
}

/// What one engine run does. Built by the runner from a spec cell.
public struct EngineConfiguration: Sendable, Hashable {
    /// The server, e.g. `http://127.0.0.1:8080`, without a trailing slash.
    public var baseURL: String
    /// The path and query requested, e.g. `/get`. Default `/get`.
    public var path: String
    /// Closed loop: the number of workers. Open loop: the cap on requests in flight; a retry waiting out its
    /// backoff is not in flight and holds no worker. Default 1.
    public var concurrency: Int
    /// Connection reuse. Default `.pooled`.
    public var pooling: Pooling
    /// How requests are started. Default `.closed`.
    public var load: LoadModel
    /// Logical requests measured, after the warm-up. With `minimumMeasuredDuration` (closed loop) the least
    /// measured; with `duration` the most. Default 100.
    public var requests: Int
    /// Logical requests sent first and recorded with `isWarmup`, excluded from statistics. Default 0: no warm-up,
    /// and the measured phase begins with the run.
    ///
    /// When positive, the run sends `max(warmupRequests, workers)` of them (workers: `concurrency`, 1 for `sync`,
    /// and no more than `totalRequests` unless `minimumMeasuredDuration` applies), handed out so that every worker
    /// sends at least one (every worker is started and, pooled, has its connection open); they start at once, also
    /// in the open loops. A worker with no warm-up left waits until every warm-up request has its final sample, and
    /// only then does the measured phase begin: its schedule, `duration` and `minimumMeasuredDuration` count from
    /// that moment. `EngineRunSummary.warmupRequests` reports the number sent.
    public var warmupRequests: Int
    /// Connect timeout. Default 2 s.
    public var connectTimeout: Duration
    /// Whole-request timeout, per attempt. Default 10 s.
    public var requestTimeout: Duration
    /// Seed for every random choice the engine makes (Poisson arrivals, jitter). Default 0.
    public var seed: UInt64
    /// Run length by time: when set, no new measured logical request starts (closed loop) or is scheduled (open
    /// loop) after this long since the measured phase began (the end of the warm-up), and `requests` is only a cap.
    /// Requests started still get their final sample. Default nil (run length by count).
    public var duration: Duration?
    /// Closed loop: the shortest measured phase. When set, measured requests keep starting after `requests` have
    /// been handed out until this long has passed since the measured phase began, so that start-up and drain
    /// are a small share of a short cell; at most 10,000,000 measured requests, and `duration`, when set, still
    /// ends the run. Ignored by the open loops, whose length is their schedule. Default nil.
    public var minimumMeasuredDuration: Duration?
    /// On cancellation of a run, how long attempts in flight may finish before they are cancelled; requests not
    /// yet started end at once as `.cancelled`. Default 1 s.
    public var shutdownGrace: Duration
    /// The async engine's SwiftNIO event loops (threads), at least 1. Default nil: one per CPU, less one left to the
    /// mock server when there are two or more (`AsyncEngine.defaultEventLoops`).
    public var eventLoops: Int?

    public init(
        baseURL: String, path: String = "/get", concurrency: Int = 1, pooling: Pooling = .pooled,
        load: LoadModel = .closed, requests: Int = 100, warmupRequests: Int = 0,
        connectTimeout: Duration = .seconds(2), requestTimeout: Duration = .seconds(10), seed: UInt64 = 0,
        duration: Duration? = nil, minimumMeasuredDuration: Duration? = nil, shutdownGrace: Duration = .seconds(1),
        eventLoops: Int? = nil
    ) {
        self.baseURL = baseURL
        self.path = path
        self.concurrency = concurrency
        self.pooling = pooling
        self.load = load
        self.requests = requests
        self.warmupRequests = warmupRequests
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.seed = seed
        self.duration = duration
        self.minimumMeasuredDuration = minimumMeasuredDuration
        self.shutdownGrace = shutdownGrace
        self.eventLoops = eventLoops
    }

    /// Warm-up plus measured logical requests as configured. A run may send more: the warm-up is raised to one per
    /// worker, and a minimum measured duration adds measured requests (`EngineRunSummary` has what was sent). Ids
    /// run from 0 without gaps, warm-up first.
    public var totalRequests: Int { warmupRequests + requests }
}

/// What an engine reports about a run beyond its samples.
public struct EngineRunSummary: Sendable, Hashable {
    /// Logical requests that reached a final outcome.
    public var completedRequests: Int
    /// Wall time of the whole run, warm-up included.
    public var elapsed: Duration
    /// Open loop: the largest lateness of a first attempt behind its schedule. Zero for the closed loop.
    public var maxLateness: Duration
    /// Warm-up logical requests handed out: ids `0..<warmupRequests`, `max(configuration.warmupRequests, workers)`
    /// or 0. Default 0.
    public var warmupRequests: Int
    /// Measured logical requests handed out: ids `warmupRequests..<warmupRequests + measuredRequests`. Default 0.
    public var measuredRequests: Int
    /// The instant the samples' times count from (the run clock's origin); nil when they are not wall-clock times
    /// (the simulation's virtual time).
    public var origin: ContinuousClock.Instant?
    /// The process's CPU seconds (user plus system) from the start of the measured phase to the end of the run
    /// (its drain and the engine's shutdown included, the start-up and the warm-up not); nil when not measured.
    public var measuredCPUSeconds: Double?

    public init(
        completedRequests: Int, elapsed: Duration, maxLateness: Duration = .zero, warmupRequests: Int = 0,
        measuredRequests: Int = 0, origin: ContinuousClock.Instant? = nil, measuredCPUSeconds: Double? = nil
    ) {
        self.completedRequests = completedRequests
        self.elapsed = elapsed
        self.maxLateness = maxLateness
        self.warmupRequests = warmupRequests
        self.measuredRequests = measuredRequests
        self.origin = origin
        self.measuredCPUSeconds = measuredCPUSeconds
    }
}

/// A concurrency model that sends the configured logical requests and emits one sample per attempt.
///
/// Every request carries `X-Request-Id: <id>` and `X-Attempt: <n>` headers so that the mock server's
/// fault decisions are a pure function of (seed, request id, attempt).
public protocol Engine: Sendable {
    /// Which model this is.
    var kind: EngineKind { get }
    /// Runs the configuration to completion, the warm-up (if any) before the measured phase (see
    /// `EngineConfiguration.warmupRequests`): every logical request gets exactly one final sample.
    func run(
        _ configuration: EngineConfiguration, policy: any AttemptPolicy, sink: any SampleSink
    ) async throws -> EngineRunSummary
}
