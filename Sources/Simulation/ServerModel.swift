import AsyncPatterns
import MockServer

/// The mock server in virtual time: its own fault and latency decisions (the same `MockServer` functions, keyed
/// by seed, request id hash and attempt, under the schedule's phase in force), and its capacity model (at most
/// `limit` requests in service, a FIFO queue or a 503 beyond). Work goes on after the client has given up.
struct ServerModel {
    /// How an attempt is served, fixed when its service starts.
    struct Service {
        /// The injected fault, nil for none.
        var fault: MockServerConfiguration.FaultKind?
        /// The wait before answering, in ns (a spike's extra time included).
        var delayNs: Int64
    }

    /// What the client receives: a status (0 for none), its class and the `Retry-After` seconds (-1 for none).
    struct Answer {
        var status: Int32
        var errorClass: ErrorClass
        var retryAfterSeconds: Int32
    }

    let configuration: MockServerConfiguration
    private let settings: LiveSettings
    private let hasSchedule: Bool
    private let spikeNs: Int64
    private let rateLimitRange: ClosedRange<Int>
    /// The `Retry-After` range of an over-capacity 503, nil for no header.
    let overloadRetryAfter: ClosedRange<Int>?
    /// Requests in service at once; 0: unlimited (the capacity model is off).
    let limit: Int
    let queues: Bool
    let maxQueue: Int

    init(_ configuration: MockServerConfiguration) {
        self.configuration = configuration
        settings = LiveSettings(configuration)
        hasSchedule = !configuration.schedule.isEmpty
        spikeNs = Int64(configuration.spikeMs * 1_000_000)
        let lowest = configuration.rateLimit.retryAfterMinSeconds
        let highest = max(lowest, configuration.rateLimit.retryAfterMaxSeconds)
        rateLimitRange = lowest...highest
        overloadRetryAfter = configuration.capacity.retryAfter.secondsRange
        limit = max(0, configuration.capacity.limit)
        queues = configuration.capacity.whenFull == .queue
        maxQueue = configuration.capacity.maxQueue
    }

    /// The fault and delay of attempt `attempt` of the request whose id hashes to `idHash`, arriving `atNs` after
    /// the server (and its schedule) started: `ResponsePlanner.service` for a latency-model endpoint such as `/get`.
    @inline(__always)
    func service(idHash: UInt64, attempt: Int32, atNs: Int64) -> Service {
        var errorRate = configuration.errorRate
        var latency = configuration.latency
        var faults = configuration.faults
        if hasSchedule, let index = settings.phaseIndex(elapsed: atNs) {
            let phase = configuration.schedule[index]
            if let rate = phase.errorRate { errorRate = rate }
            if let phaseLatency = phase.latency { latency = phaseLatency }
            if let phaseFaults = phase.faults { faults = phaseFaults }
        }
        let seed = configuration.seed
        let attempt = Int(attempt)
        var fault: MockServerConfiguration.FaultKind?
        if errorRate > 0, MockServer.failureUnit(seed: seed, idHash: idHash, attempt: attempt) < errorRate {
            fault = MockServer.faultKind(seed: seed, idHash: idHash, attempt: attempt, mix: faults)
        }
        var delayNs: Int64
        if case .fixed = latency {
            // A fixed latency draws nothing: skip building the generator.
            var unused = SplitMix64(seed: 0)
            delayNs = latency.sampleNanoseconds(using: &unused)
        } else {
            var generator = MockServer.latencyGenerator(seed: seed, idHash: idHash, attempt: attempt)
            delayNs = latency.sampleNanoseconds(using: &generator)
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
            let seconds = MockServer.retryAfterSeconds(
                seed: configuration.seed, idHash: idHash, attempt: Int(attempt), range: rateLimitRange)
            return Answer(status: 429, errorClass: .http429, retryAfterSeconds: Int32(clamping: seconds))
        case .reset?: return Answer(status: 0, errorClass: .reset, retryAfterSeconds: -1)
        case .hang?: return Answer(status: 0, errorClass: .timeout, retryAfterSeconds: -1)
        case .spike?, nil: return Answer(status: 200, errorClass: .ok, retryAfterSeconds: -1)
        }
    }

    /// The 503 of an attempt over capacity, with the capacity's `Retry-After` drawn per (seed, id, attempt).
    func overCapacity(idHash: UInt64, attempt: Int32) -> Answer {
        guard let range = overloadRetryAfter else {
            return Answer(status: 503, errorClass: .http5xx, retryAfterSeconds: -1)
        }
        let seconds = MockServer.retryAfterSeconds(
            seed: configuration.seed, idHash: idHash, attempt: Int(attempt), range: range)
        return Answer(status: 503, errorClass: .http5xx, retryAfterSeconds: Int32(clamping: seconds))
    }
}
