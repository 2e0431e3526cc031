/// What the server has served since it started or was last reset; the JSON of `GET /__admin/counters`.
///
/// Admin requests are not counted. `requests` counts every other request received, `/health` included.
public struct MockServerCounters: Sendable, Codable, Hashable {
    /// Requests received (admin excluded).
    public var requests: UInt64
    /// TCP connections accepted.
    public var connections: UInt64
    /// Responses sent, by status code ("200", "500", ...).
    public var byStatus: [String: UInt64]
    /// Faults acted on, by kind ("500", "503", "429", "spike", "reset", "hang", and "overload" for capacity 503s).
    public var byFault: [String: UInt64]
    /// Requests subject to the schedule (all but /health), by phase name; "default" outside any phase.
    public var byPhase: [String: UInt64]
    /// Server-side service time: request head received to response handed to the socket, injected latency included.
    public var serviceTime: ServiceTime
    /// Requests in service now (capacity model), /health and hangs excluded.
    public var inFlight: Int
    /// Requests waiting for capacity now.
    public var queued: Int
    /// Largest `inFlight` seen.
    public var peakInFlight: Int
    /// Responses made ready after their connection had closed (the client gave up, say on its timeout, while the
    /// request was queued or in service): work the server did for nobody.
    public var wasted: UInt64 = 0
    /// When the schedule's clock started (the last configuration applied), in ns on the host's uptime clock
    /// (`NIODeadline`'s): a client on the same host places the schedule's phases on its own clock with it. Nil in
    /// counters written before it was added.
    public var scheduleStartUptimeNs: UInt64?

    /// Summary of the service-time histogram, in nanoseconds (percentiles within 0.8%).
    public struct ServiceTime: Sendable, Codable, Hashable {
        /// Responses timed.
        public var count: UInt64
        /// Mean, exact.
        public var meanNs: Double
        /// Median.
        public var p50Ns: Double
        /// 90th percentile.
        public var p90Ns: Double
        /// 99th percentile.
        public var p99Ns: Double
        /// 99.9th percentile.
        public var p999Ns: Double
        /// Maximum, exact.
        public var maxNs: Double

        /// Creates a summary.
        public init(
            count: UInt64 = 0, meanNs: Double = 0, p50Ns: Double = 0, p90Ns: Double = 0, p99Ns: Double = 0,
            p999Ns: Double = 0, maxNs: Double = 0
        ) {
            self.count = count
            self.meanNs = meanNs
            self.p50Ns = p50Ns
            self.p90Ns = p90Ns
            self.p99Ns = p99Ns
            self.p999Ns = p999Ns
            self.maxNs = maxNs
        }
    }

    /// Creates a set of counters.
    public init(
        requests: UInt64 = 0, connections: UInt64 = 0, byStatus: [String: UInt64] = [:],
        byFault: [String: UInt64] = [:], byPhase: [String: UInt64] = [:], serviceTime: ServiceTime = .init(),
        inFlight: Int = 0, queued: Int = 0, peakInFlight: Int = 0, wasted: UInt64 = 0,
        scheduleStartUptimeNs: UInt64? = nil
    ) {
        self.requests = requests
        self.connections = connections
        self.byStatus = byStatus
        self.byFault = byFault
        self.byPhase = byPhase
        self.serviceTime = serviceTime
        self.inFlight = inFlight
        self.queued = queued
        self.peakInFlight = peakInFlight
        self.wasted = wasted
        self.scheduleStartUptimeNs = scheduleStartUptimeNs
    }
}
