import Foundation

/// Everything the mock server does, as one value. `{}` decodes to the defaults.
///
/// The behavioural fields (all but `host`, `port` and `eventLoops`) can be changed while the server runs,
/// with `PUT /__admin/config` or `RunningMockServer.apply(_:)`.
public struct MockServerConfiguration: Sendable, Codable, Hashable {
    /// Address to bind. Default "127.0.0.1".
    public var host: String
    /// Port; 0 picks a free one. Default 0.
    public var port: Int
    /// NIO event loop threads. Default 2.
    public var eventLoops: Int
    /// Seed of every random decision. Default 0.
    public var seed: UInt64
    /// Latency model applied to every endpoint except /health, /delay and admin ones. Default none (0 ms).
    public var latency: LatencyModel
    /// Fraction of requests that fail, 0...1, decided per (seed, request id, attempt). Default 0.
    public var errorRate: Double
    /// Relative weights of the fault kinds a failing request gets. Default 100% `500`.
    public var faults: FaultMix
    /// Extra latency of a `spike` fault, in milliseconds, added to the drawn latency. Default 1000.
    public var spikeMs: Double
    /// The `/429` endpoint and every `Retry-After` header. Default: 429 after 10 requests, `Retry-After: 1`.
    public var rateLimit: RateLimit
    /// Phases over time, each overriding the error rate, latency or fault mix. Default none.
    public var schedule: [Phase]
    /// Whether the schedule starts again after its last phase; otherwise the base settings apply. Default false.
    public var repeatSchedule: Bool
    /// The overload model: at most `limit` requests in service at once, the rest queued or answered 503 (with the
    /// `Retry-After` of `capacity.retryAfter`, none by default). Default unlimited.
    public var capacity: Capacity
    /// Time allowed to receive the rest of a request once its first byte arrived, in ms; then 408. Default 10000.
    public var requestTimeoutMs: Int
    /// On shutdown, how long to wait for requests in service to finish, in ms. Default 1000.
    public var shutdownGraceMs: Int

    /// Creates a configuration; every parameter has the default documented on its property.
    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        eventLoops: Int = 2,
        seed: UInt64 = 0,
        latency: LatencyModel = .none,
        errorRate: Double = 0,
        faults: FaultMix = .init(),
        spikeMs: Double = 1000,
        rateLimit: RateLimit = .init(),
        schedule: [Phase] = [],
        repeatSchedule: Bool = false,
        capacity: Capacity = .init(),
        requestTimeoutMs: Int = 10_000,
        shutdownGraceMs: Int = 1000
    ) {
        self.host = host
        self.port = port
        self.eventLoops = eventLoops
        self.seed = seed
        self.latency = latency
        self.errorRate = errorRate
        self.faults = faults
        self.spikeMs = spikeMs
        self.rateLimit = rateLimit
        self.schedule = schedule
        self.repeatSchedule = repeatSchedule
        self.capacity = capacity
        self.requestTimeoutMs = requestTimeoutMs
        self.shutdownGraceMs = shutdownGraceMs
    }

    /// The defaults.
    public static let `default` = MockServerConfiguration()
}

extension MockServerConfiguration {
    /// The kinds of injected fault.
    public enum FaultKind: String, Sendable, Hashable, Codable, CaseIterable {
        /// Answer 500 Internal Server Error.
        case status500 = "500"
        /// Answer 503 Service Unavailable.
        case status503 = "503"
        /// Answer 429 Too Many Requests with a `Retry-After` header.
        case status429 = "429"
        /// Answer normally, after `spikeMs` extra milliseconds.
        case spike
        /// Reset the connection (TCP RST) instead of answering.
        case reset
        /// Never answer; the connection stays open until the client gives up.
        case hang
    }

    /// Relative weights of the fault kinds. JSON keys: "500", "503", "429", "spike", "reset", "hang".
    public struct FaultMix: Sendable, Hashable, Codable {
        /// Weight of 500 answers. Default 1.
        public var status500: Double
        /// Weight of 503 answers. Default 0.
        public var status503: Double
        /// Weight of 429 answers with `Retry-After`. Default 0.
        public var status429: Double
        /// Weight of latency spikes. Default 0.
        public var spike: Double
        /// Weight of connection resets. Default 0.
        public var reset: Double
        /// Weight of hangs. Default 0.
        public var hang: Double

        /// Creates a mix; by default every failing request gets a 500.
        public init(
            status500: Double = 1, status503: Double = 0, status429: Double = 0, spike: Double = 0,
            reset: Double = 0, hang: Double = 0
        ) {
            self.status500 = status500
            self.status503 = status503
            self.status429 = status429
            self.spike = spike
            self.reset = reset
            self.hang = hang
        }

        /// A mix giving every failing request the same kind.
        public static func only(_ kind: FaultKind) -> FaultMix {
            var mix = FaultMix(status500: 0)
            mix[kind] = 1
            return mix
        }

        /// The weight of one kind.
        public subscript(kind: FaultKind) -> Double {
            get {
                switch kind {
                case .status500: status500
                case .status503: status503
                case .status429: status429
                case .spike: spike
                case .reset: reset
                case .hang: hang
                }
            }
            set {
                switch kind {
                case .status500: status500 = newValue
                case .status503: status503 = newValue
                case .status429: status429 = newValue
                case .spike: spike = newValue
                case .reset: reset = newValue
                case .hang: hang = newValue
                }
            }
        }

        /// Picks the kind whose cumulative weight covers `unit` (in [0, 1)).
        func pick(unit: Double) -> FaultKind {
            var total = 0.0
            for kind in FaultKind.allCases { total += self[kind] }
            let target = unit * total
            var cumulative = 0.0
            for kind in FaultKind.allCases where self[kind] > 0 {
                cumulative += self[kind]
                if target < cumulative { return kind }
            }
            return FaultKind.allCases.last { self[$0] > 0 } ?? .status500
        }

        private enum CodingKeys: String, CodingKey, CaseIterable {
            case status500 = "500", status503 = "503", status429 = "429", spike, reset, hang
        }

        /// Decodes the weights; a missing key has weight 0, except that `{}` means 100% `500`.
        public init(from decoder: any Decoder) throws {
            try rejectUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let anyGiven = !c.allKeys.isEmpty
            self.init(
                status500: try c.decodeIfPresent(Double.self, forKey: .status500) ?? (anyGiven ? 0 : 1),
                status503: try c.decodeIfPresent(Double.self, forKey: .status503) ?? 0,
                status429: try c.decodeIfPresent(Double.self, forKey: .status429) ?? 0,
                spike: try c.decodeIfPresent(Double.self, forKey: .spike) ?? 0,
                reset: try c.decodeIfPresent(Double.self, forKey: .reset) ?? 0,
                hang: try c.decodeIfPresent(Double.self, forKey: .hang) ?? 0
            )
        }

        func validate(path: String) throws(MockServerConfigurationError) {
            var total = 0.0
            for kind in FaultKind.allCases {
                let weight = self[kind]
                guard weight.isFinite, weight >= 0 else {
                    throw .invalid(key: "\(path).\(kind.rawValue)", value: "\(weight)", allowed: "a weight >= 0")
                }
                total += weight
            }
            guard total > 0 else {
                throw .invalid(key: path, value: "all weights 0", allowed: "at least one weight > 0")
            }
        }
    }

    /// The arrival-order rate limit of `/429`, and the `Retry-After` range of every 429.
    public struct RateLimit: Sendable, Hashable, Codable {
        /// `/429` answers 200 to this many requests per window, then 429. Default 10.
        public var after: Int
        /// Window length in ms after which the count starts again; 0 means never (until reset). Default 0.
        public var windowMs: Int
        /// Smallest `Retry-After` value, in whole seconds. Default 1.
        public var retryAfterMinSeconds: Int
        /// Largest `Retry-After` value, in whole seconds; drawn uniformly per request from the seed. Default 1.
        public var retryAfterMaxSeconds: Int

        /// Creates a rate limit; every parameter has the default documented on its property.
        public init(after: Int = 10, windowMs: Int = 0, retryAfterMinSeconds: Int = 1, retryAfterMaxSeconds: Int = 1) {
            self.after = after
            self.windowMs = windowMs
            self.retryAfterMinSeconds = retryAfterMinSeconds
            self.retryAfterMaxSeconds = retryAfterMaxSeconds
        }

        private enum CodingKeys: String, CodingKey, CaseIterable {
            case after, windowMs, retryAfterMinSeconds, retryAfterMaxSeconds
        }

        /// Decodes the fields, each defaulted when missing.
        public init(from decoder: any Decoder) throws {
            try rejectUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = RateLimit()
            self.init(
                after: try c.decodeIfPresent(Int.self, forKey: .after) ?? d.after,
                windowMs: try c.decodeIfPresent(Int.self, forKey: .windowMs) ?? d.windowMs,
                retryAfterMinSeconds: try c.decodeIfPresent(Int.self, forKey: .retryAfterMinSeconds)
                    ?? d.retryAfterMinSeconds,
                retryAfterMaxSeconds: try c.decodeIfPresent(Int.self, forKey: .retryAfterMaxSeconds)
                    ?? d.retryAfterMaxSeconds
            )
        }
    }

    /// One phase of a fault schedule. Fields left nil keep the base configuration's value.
    public struct Phase: Sendable, Hashable, Codable {
        /// Name used in the `byPhase` counters. Default "phase<index>".
        public var name: String?
        /// Length of the phase in milliseconds. Required, > 0.
        public var durationMs: Double
        /// Error rate during the phase, 0...1. Default: the base `errorRate`.
        public var errorRate: Double?
        /// Latency model during the phase. Default: the base `latency`.
        public var latency: LatencyModel?
        /// Fault mix during the phase. Default: the base `faults`.
        public var faults: FaultMix?

        /// Creates a phase.
        public init(
            name: String? = nil, durationMs: Double, errorRate: Double? = nil, latency: LatencyModel? = nil,
            faults: FaultMix? = nil
        ) {
            self.name = name
            self.durationMs = durationMs
            self.errorRate = errorRate
            self.latency = latency
            self.faults = faults
        }

        private enum CodingKeys: String, CodingKey, CaseIterable {
            case name, durationMs, errorRate, latency, faults
        }

        /// Decodes a phase; `durationMs` is required.
        public init(from decoder: any Decoder) throws {
            try rejectUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                name: try c.decodeIfPresent(String.self, forKey: .name),
                durationMs: try c.decode(Double.self, forKey: .durationMs),
                errorRate: try c.decodeIfPresent(Double.self, forKey: .errorRate),
                latency: try c.decodeIfPresent(LatencyModel.self, forKey: .latency),
                faults: try c.decodeIfPresent(FaultMix.self, forKey: .faults)
            )
        }
    }

    /// What happens to a request that arrives when `limit` requests are already in service.
    public enum OverloadPolicy: String, Sendable, Hashable, Codable, CaseIterable {
        /// Wait in a FIFO queue (up to `maxQueue`, then 503).
        case queue
        /// Answer 503 at once.
        case reject
    }

    /// The `Retry-After` header of an over-capacity 503. JSON: absent, `null` or `"none"` for no header, a whole
    /// number of seconds for a fixed value, or `{"min": a, "max": b}` for whole seconds drawn uniformly per request
    /// from the server's seed (as the 429s' `rateLimit.retryAfterMinSeconds...retryAfterMaxSeconds` are).
    public enum RetryAfter: Sendable, Hashable, Codable {
        /// No `Retry-After` header.
        case none
        /// `Retry-After: seconds` on every over-capacity 503; seconds >= 0.
        case fixed(seconds: Int)
        /// Whole seconds in `min...max`, drawn per request from (seed, request id, attempt); 0 <= min <= max.
        case uniform(minSeconds: Int, maxSeconds: Int)

        static let allowed =
            #"absent, null or "none" (no header), whole seconds >= 0 (fixed), or {"min": a, "max": b} "#
            + "(whole seconds, 0 <= a <= b, drawn per request)"

        private enum RangeKeys: String, CodingKey, CaseIterable {
            case min, max
        }

        /// Decodes `"none"`, `null`, a whole number of seconds or `{"min": a, "max": b}`.
        public init(from decoder: any Decoder) throws {
            let single = try decoder.singleValueContainer()
            if single.decodeNil() {
                self = .none
                return
            }
            if let text = try? single.decode(String.self) {
                guard text == "none" else {
                    throw DecodingError.dataCorruptedError(
                        in: single, debugDescription: "\"\(text)\" is not allowed; allowed: \(Self.allowed)")
                }
                self = .none
                return
            }
            if let number = try? single.decode(Double.self) {
                guard number.isFinite, number == number.rounded(), number >= 0, number <= Double(Int32.max) else {
                    throw DecodingError.dataCorruptedError(
                        in: single, debugDescription: "\(number) is not allowed; allowed: \(Self.allowed)")
                }
                self = .fixed(seconds: Int(number))
                return
            }
            guard let range = try? decoder.container(keyedBy: RangeKeys.self) else {
                throw DecodingError.dataCorruptedError(
                    in: single, debugDescription: "a list or boolean is not allowed; allowed: \(Self.allowed)")
            }
            try rejectUnknownKeys(decoder, allowed: RangeKeys.allCases.map(\.rawValue))
            func seconds(_ key: RangeKeys) throws -> Int {
                guard let value = try? range.decode(Double.self, forKey: key) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: key, in: range,
                        debugDescription: "missing or not a number; allowed: whole seconds >= 0 (both min and max)")
                }
                guard value.isFinite, value == value.rounded(), value >= 0, value <= Double(Int32.max) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: key, in: range, debugDescription: "\(value) is not allowed; allowed: whole seconds >= 0"
                    )
                }
                return Int(value)
            }
            let minSeconds = try seconds(.min)
            let maxSeconds = try seconds(.max)
            guard minSeconds <= maxSeconds else {
                throw DecodingError.dataCorruptedError(
                    forKey: .max, in: range,
                    debugDescription: "\(maxSeconds) is below min (\(minSeconds)); allowed: whole seconds >= min")
            }
            self = .uniform(minSeconds: minSeconds, maxSeconds: maxSeconds)
        }

        /// Encodes the same shapes `init(from:)` reads: `"none"`, a number or `{"min": a, "max": b}`.
        public func encode(to encoder: any Encoder) throws {
            switch self {
            case .none:
                var single = encoder.singleValueContainer()
                try single.encode("none")
            case .fixed(let seconds):
                var single = encoder.singleValueContainer()
                try single.encode(seconds)
            case .uniform(let minSeconds, let maxSeconds):
                var range = encoder.container(keyedBy: RangeKeys.self)
                try range.encode(minSeconds, forKey: .min)
                try range.encode(maxSeconds, forKey: .max)
            }
        }

        /// The range of seconds drawn from, or nil for no header.
        var secondsRange: ClosedRange<Int>? {
            switch self {
            case .none: nil
            case .fixed(let seconds): seconds...seconds
            case .uniform(let minSeconds, let maxSeconds): minSeconds...maxSeconds
            }
        }

        func validate(path: String) throws(MockServerConfigurationError) {
            switch self {
            case .none:
                return
            case .fixed(let seconds):
                guard seconds >= 0 else { throw .invalid(key: path, value: "\(seconds)", allowed: Self.allowed) }
            case .uniform(let minSeconds, let maxSeconds):
                guard minSeconds >= 0 else {
                    throw .invalid(key: "\(path).min", value: "\(minSeconds)", allowed: "whole seconds >= 0")
                }
                guard maxSeconds >= minSeconds else {
                    throw .invalid(
                        key: "\(path).max", value: "\(maxSeconds)", allowed: "whole seconds >= min (\(minSeconds))")
                }
            }
        }
    }

    /// The overload model: a capacity of `limit` concurrent requests.
    public struct Capacity: Sendable, Hashable, Codable {
        /// Requests in service at once; 0 means unlimited. `/health` and admin requests are exempt. Default 0.
        public var limit: Int
        /// What a request above the limit gets. Default `queue`.
        public var whenFull: OverloadPolicy
        /// Longest queue; a request arriving at a full queue gets 503. 0 means unbounded. Default 0.
        public var maxQueue: Int
        /// The `Retry-After` header of every over-capacity 503 (`reject`, or a full queue). Default `.none`: no
        /// header, so a client's backoff applies unless a spec asks for one.
        public var retryAfter: RetryAfter

        /// Creates a capacity; every parameter has the default documented on its property.
        public init(
            limit: Int = 0, whenFull: OverloadPolicy = .queue, maxQueue: Int = 0, retryAfter: RetryAfter = .none
        ) {
            self.limit = limit
            self.whenFull = whenFull
            self.maxQueue = maxQueue
            self.retryAfter = retryAfter
        }

        private enum CodingKeys: String, CodingKey, CaseIterable {
            case limit, whenFull, maxQueue, retryAfter
        }

        /// Decodes the fields, each defaulted when missing.
        public init(from decoder: any Decoder) throws {
            try rejectUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let policy: OverloadPolicy
            if let raw = try c.decodeIfPresent(String.self, forKey: .whenFull) {
                guard let parsed = OverloadPolicy(rawValue: raw) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .whenFull, in: c, debugDescription: "unknown policy '\(raw)'; allowed: queue, reject")
                }
                policy = parsed
            } else {
                policy = .queue
            }
            self.init(
                limit: try c.decodeIfPresent(Int.self, forKey: .limit) ?? 0,
                whenFull: policy,
                maxQueue: try c.decodeIfPresent(Int.self, forKey: .maxQueue) ?? 0,
                retryAfter: try c.decodeIfPresent(RetryAfter.self, forKey: .retryAfter) ?? .none
            )
        }
    }
}

extension MockServerConfiguration {
    private enum CodingKeys: String, CodingKey, CaseIterable {
        case host, port, eventLoops, seed, latency, errorRate, faults, spikeMs, rateLimit, schedule, repeatSchedule
        case capacity, requestTimeoutMs, shutdownGraceMs
    }

    /// Decodes a configuration; missing keys take their defaults and unknown keys are an error.
    public init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = MockServerConfiguration()
        self.init(
            host: try c.decodeIfPresent(String.self, forKey: .host) ?? d.host,
            port: try c.decodeIfPresent(Int.self, forKey: .port) ?? d.port,
            eventLoops: try c.decodeIfPresent(Int.self, forKey: .eventLoops) ?? d.eventLoops,
            seed: try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed,
            latency: try c.decodeIfPresent(LatencyModel.self, forKey: .latency) ?? d.latency,
            errorRate: try c.decodeIfPresent(Double.self, forKey: .errorRate) ?? d.errorRate,
            faults: try c.decodeIfPresent(FaultMix.self, forKey: .faults) ?? d.faults,
            spikeMs: try c.decodeIfPresent(Double.self, forKey: .spikeMs) ?? d.spikeMs,
            rateLimit: try c.decodeIfPresent(RateLimit.self, forKey: .rateLimit) ?? d.rateLimit,
            schedule: try c.decodeIfPresent([Phase].self, forKey: .schedule) ?? d.schedule,
            repeatSchedule: try c.decodeIfPresent(Bool.self, forKey: .repeatSchedule) ?? d.repeatSchedule,
            capacity: try c.decodeIfPresent(Capacity.self, forKey: .capacity) ?? d.capacity,
            requestTimeoutMs: try c.decodeIfPresent(Int.self, forKey: .requestTimeoutMs) ?? d.requestTimeoutMs,
            shutdownGraceMs: try c.decodeIfPresent(Int.self, forKey: .shutdownGraceMs) ?? d.shutdownGraceMs
        )
    }

    /// Decodes and validates a JSON document. Throws `MockServerConfigurationError` naming the key and value.
    public static func decode(json: some DataProtocol, source: String = "configuration")
        throws(MockServerConfigurationError) -> MockServerConfiguration
    {
        let configuration: MockServerConfiguration
        do {
            configuration = try JSONDecoder().decode(MockServerConfiguration.self, from: Data(json))
        } catch let error as DecodingError {
            throw .decoding(source: source, error)
        } catch {
            throw .invalid(key: source, value: "\(error)", allowed: "a JSON object")
        }
        do {
            try configuration.validate()
        } catch {
            throw .invalid(key: "\(source): \(error.key)", value: error.value, allowed: error.allowed)
        }
        return configuration
    }

    /// Checks every field. Throws `MockServerConfigurationError` naming the key, the value and what is allowed.
    public func validate() throws(MockServerConfigurationError) {
        guard !host.isEmpty else { throw .invalid(key: "host", value: "\"\"", allowed: "an IP address or host name") }
        guard (0...65535).contains(port) else { throw .invalid(key: "port", value: "\(port)", allowed: "0...65535") }
        guard (1...256).contains(eventLoops) else {
            throw .invalid(key: "eventLoops", value: "\(eventLoops)", allowed: "1...256")
        }
        try latency.validate(path: "latency")
        try Self.validateRate(errorRate, key: "errorRate")
        try faults.validate(path: "faults")
        guard spikeMs.isFinite, spikeMs >= 0, spikeMs <= 60_000 else {
            throw .invalid(key: "spikeMs", value: "\(spikeMs)", allowed: "milliseconds in 0...60000")
        }
        guard rateLimit.after >= 0 else {
            throw .invalid(key: "rateLimit.after", value: "\(rateLimit.after)", allowed: "a count >= 0")
        }
        guard rateLimit.windowMs >= 0 else {
            throw .invalid(key: "rateLimit.windowMs", value: "\(rateLimit.windowMs)", allowed: "milliseconds >= 0")
        }
        guard rateLimit.retryAfterMinSeconds >= 0 else {
            throw .invalid(
                key: "rateLimit.retryAfterMinSeconds", value: "\(rateLimit.retryAfterMinSeconds)",
                allowed: "whole seconds >= 0")
        }
        guard rateLimit.retryAfterMaxSeconds >= rateLimit.retryAfterMinSeconds else {
            throw .invalid(
                key: "rateLimit.retryAfterMaxSeconds", value: "\(rateLimit.retryAfterMaxSeconds)",
                allowed: ">= retryAfterMinSeconds (\(rateLimit.retryAfterMinSeconds))")
        }
        for (index, phase) in schedule.enumerated() {
            let path = "schedule[\(index)]"
            guard phase.durationMs.isFinite, phase.durationMs > 0 else {
                throw .invalid(key: "\(path).durationMs", value: "\(phase.durationMs)", allowed: "milliseconds > 0")
            }
            if let rate = phase.errorRate { try Self.validateRate(rate, key: "\(path).errorRate") }
            try phase.latency?.validate(path: "\(path).latency")
            try phase.faults?.validate(path: "\(path).faults")
        }
        guard capacity.limit >= 0 else {
            throw .invalid(key: "capacity.limit", value: "\(capacity.limit)", allowed: "a count >= 0 (0 = unlimited)")
        }
        guard capacity.maxQueue >= 0 else {
            throw .invalid(
                key: "capacity.maxQueue", value: "\(capacity.maxQueue)", allowed: "a count >= 0 (0 = unbounded)")
        }
        try capacity.retryAfter.validate(path: "capacity.retryAfter")
        guard requestTimeoutMs > 0 else {
            throw .invalid(key: "requestTimeoutMs", value: "\(requestTimeoutMs)", allowed: "milliseconds > 0")
        }
        guard shutdownGraceMs >= 0 else {
            throw .invalid(key: "shutdownGraceMs", value: "\(shutdownGraceMs)", allowed: "milliseconds >= 0")
        }
    }

    private static func validateRate(_ rate: Double, key: String) throws(MockServerConfigurationError) {
        guard rate.isFinite, rate >= 0, rate <= 1 else {
            throw .invalid(key: key, value: "\(rate)", allowed: "a fraction in 0...1")
        }
    }

    /// Encodes the configuration as compact JSON with sorted keys.
    public func jsonString() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
