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
    /// Closed loop: the number of workers. Open loop: the cap on requests in flight. Default 1.
    public var concurrency: Int
    /// Connection reuse. Default `.pooled`.
    public var pooling: Pooling
    /// How requests are started. Default `.closed`.
    public var load: LoadModel
    /// Logical requests measured, after the warm-up. Default 100.
    public var requests: Int
    /// Logical requests sent first and recorded with `isWarmup`, excluded from statistics. Default 0.
    public var warmupRequests: Int
    /// Connect timeout. Default 2 s.
    public var connectTimeout: Duration
    /// Whole-request timeout, per attempt. Default 10 s.
    public var requestTimeout: Duration
    /// Seed for every random choice the engine makes (Poisson arrivals, jitter). Default 0.
    public var seed: UInt64
    /// Run length by time: when set, no new logical request starts after this long since the run began
    /// (warm-up included), and `totalRequests` is only a cap. Requests started still get their final sample.
    /// Default nil (run length by count).
    public var duration: Duration?
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
        duration: Duration? = nil, shutdownGrace: Duration = .seconds(1), eventLoops: Int? = nil
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
        self.shutdownGrace = shutdownGrace
        self.eventLoops = eventLoops
    }

    /// Warm-up plus measured logical requests; ids run from 0 to `totalRequests - 1`, warm-up first.
    public var totalRequests: Int { warmupRequests + requests }
}

/// What an engine reports about a run beyond its samples.
public struct EngineRunSummary: Sendable, Hashable {
    /// Logical requests that reached a final outcome.
    public var completedRequests: Int
    /// Wall time of the whole run, warm-up included.
    public var elapsed: Duration
    /// Open loop: the largest lateness of a send behind its schedule. Zero for the closed loop.
    public var maxLateness: Duration

    public init(completedRequests: Int, elapsed: Duration, maxLateness: Duration = .zero) {
        self.completedRequests = completedRequests
        self.elapsed = elapsed
        self.maxLateness = maxLateness
    }
}

/// A concurrency model that sends the configured logical requests and emits one sample per attempt.
///
/// Every request carries `X-Request-Id: <id>` and `X-Attempt: <n>` headers so that the mock server's
/// fault decisions are a pure function of (seed, request id, attempt).
public protocol Engine: Sendable {
    /// Which model this is.
    var kind: EngineKind { get }
    /// Runs the configuration to completion: every logical request gets exactly one final sample.
    func run(
        _ configuration: EngineConfiguration, policy: any AttemptPolicy, sink: any SampleSink
    ) async throws -> EngineRunSummary
}
