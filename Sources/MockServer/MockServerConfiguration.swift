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

    /// Encodes the configuration as compact JSON with sorted keys.
    public func jsonString() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
