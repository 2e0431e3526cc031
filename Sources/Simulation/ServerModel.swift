import AsyncPatterns
import MockServer

/// The mock server in virtual time: its own fault and latency decisions (the same `MockServer` functions, keyed
/// by seed, request id hash and attempt, under the schedule's phase in force), and its capacity model (at most
/// `limit` requests in service, a FIFO queue or a 503 beyond). Work goes on after the client has given up.
/// A `/contention/{key}` write reads its key's version when its service starts and commits when it ends
/// (`Simulator+Server`).
struct ServerModel {
    /// How an attempt is served, fixed when its service starts.
    struct Service {
        /// The injected fault, nil for none.
        var fault: MockServerConfiguration.FaultKind?
        /// The wait before answering, in ns (a spike's extra time included).
        var delayNs: Int64

        /// Whether the endpoint's own answer is given (no fault, or a spike), and a contention write is made: as
        /// `ResponsePlanner.Service.servesEndpoint`.
        var servesEndpoint: Bool { fault == nil || fault == .spike }
    }

    /// What the client receives: a status (0 for none), its class and the `Retry-After` seconds (-1 for none).
    struct Answer {
        var status: Int32
        var errorClass: ErrorClass
        var retryAfterSeconds: Int32
    }

    let configuration: MockServerConfiguration
    private let settings: LiveSettings
    /// Without a schedule, the settings in force at any time (`LiveSettings.effective` is a call into another module,
    /// and this is the hot path); nil with a schedule.
    private let unscheduled: LiveSettings.Effective?
    private let spikeNs: Int64
    private let rateLimitRange: ClosedRange<Int>
    /// The `Retry-After` range of an over-capacity 503, nil for no header.
    let overloadRetryAfter: ClosedRange<Int>?
    /// Requests in service at once; 0: unlimited (the capacity model is off).
    let limit: Int
    /// Requests in service at once: `limit`, or `Int.max` without the capacity model.
    let serviceLimit: Int
    let queues: Bool
    let maxQueue: Int

    init(_ configuration: MockServerConfiguration) {
        self.configuration = configuration
        settings = LiveSettings(configuration)
        unscheduled = configuration.schedule.isEmpty ? settings.effective(elapsed: 0) : nil
        spikeNs = Int64(configuration.spikeMs * 1_000_000)
        let lowest = configuration.rateLimit.retryAfterMinSeconds
        let highest = max(lowest, configuration.rateLimit.retryAfterMaxSeconds)
        rateLimitRange = lowest...highest
        overloadRetryAfter = configuration.capacity.retryAfter.secondsRange
        limit = max(0, configuration.capacity.limit)
        serviceLimit = limit > 0 ? limit : .max
        queues = configuration.capacity.whenFull == .queue
        maxQueue = configuration.capacity.maxQueue
    }

    /// The fault and delay of attempt `attempt` of the request whose id hashes to `idHash`, arriving `atNs` after
    /// the server (and its schedule) started: `ResponsePlanner.service` for a latency-model endpoint such as `/get`,
    /// under the settings `LiveSettings.effective(elapsed:)` gives the live server at that arrival.
    @inline(__always)
    func service(idHash: UInt64, attempt: Int32, atNs: Int64) -> Service {
        let effective = unscheduled ?? settings.effective(elapsed: atNs)
        let seed = configuration.seed
        let key = MockServer.AttemptKey(seed: seed, idHash: idHash, attempt: Int(attempt))
        var fault: MockServerConfiguration.FaultKind?
        if effective.errorRate > 0, key.failureUnit < effective.errorRate {
            fault = key.faultKind(mix: effective.faults)
        }
        var delayNs: Int64
        if case .fixed = effective.latency {
            // A fixed latency draws nothing: skip building the generator.
            var unused = SplitMix64(seed: 0)
            delayNs = effective.latency.sampleNanoseconds(using: &unused)
        } else {
            var generator = key.latencyGenerator
            delayNs = effective.latency.sampleNanoseconds(using: &generator)
        }
        if fault == .spike { delayNs += spikeNs }
        return Service(fault: fault, delayNs: delayNs)
    }

    /// The answer of a served attempt (not a reset or a hang): `ResponsePlanner.response` as status, class and
    /// `Retry-After` (a 429 draws its seconds from the rate limit's range, as the live server does).
    @inline(__always)
    func answer(_ service: Service, idHash: UInt64, attempt: Int32) -> Answer {
        switch service.fault {
        case .status500?: return Answer(status: 500, errorClass: .http5xx, retryAfterSeconds: -1)
        case .status503?: return Answer(status: 503, errorClass: .http5xx, retryAfterSeconds: -1)
        case .status429?:
            let seconds = MockServer.AttemptKey(seed: configuration.seed, idHash: idHash, attempt: Int(attempt))
                .retryAfterSeconds(range: rateLimitRange)
            return Answer(status: 429, errorClass: .http429, retryAfterSeconds: Int32(clamping: seconds))
        case .reset?: return Answer(status: 0, errorClass: .reset, retryAfterSeconds: -1)
        case .hang?: return Answer(status: 0, errorClass: .timeout, retryAfterSeconds: -1)
        case .spike?, nil: return Answer(status: 200, errorClass: .ok, retryAfterSeconds: -1)
        }
    }

    /// The 409 of a contention write that another write overtook during its service time.
    static let conflict = Answer(status: 409, errorClass: .http4xx, retryAfterSeconds: -1)

    /// The 503 of an attempt over capacity, with the capacity's `Retry-After` drawn per (seed, id, attempt).
    func overCapacity(idHash: UInt64, attempt: Int32) -> Answer {
        guard let range = overloadRetryAfter else {
            return Answer(status: 503, errorClass: .http5xx, retryAfterSeconds: -1)
        }
        let seconds = MockServer.AttemptKey(seed: configuration.seed, idHash: idHash, attempt: Int(attempt))
            .retryAfterSeconds(range: range)
        return Answer(status: 503, errorClass: .http5xx, retryAfterSeconds: Int32(clamping: seconds))
    }
}
