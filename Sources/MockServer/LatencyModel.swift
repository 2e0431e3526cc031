import AsyncPatterns

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How long the server waits before answering, drawn per request from a seeded generator.
///
/// JSON forms: `{"kind":"fixed","ms":5}`, `{"kind":"uniform","ms":5,"jitter":0.2}`,
/// `{"kind":"exponential","ms":5}`, `{"kind":"lognormal","ms":5,"sigma":0.5}`.
/// `ms` is the mean in milliseconds for every kind.
public enum LatencyModel: Sendable, Hashable {
    /// Always `ms` milliseconds.
    case fixed(ms: Double)
    /// Uniform in `ms * (1 - jitter) ... ms * (1 + jitter)`; `jitter` is a fraction in 0...1.
    case uniform(ms: Double, jitter: Double)
    /// Exponentially distributed with mean `ms` milliseconds.
    case exponential(ms: Double)
    /// Log-normal with mean `ms` milliseconds and shape `sigma` (the standard deviation of the log).
    case lognormal(ms: Double, sigma: Double)

    /// No added latency.
    public static let none = LatencyModel.fixed(ms: 0)

    /// The longest latency any model produces, in nanoseconds (60 s); longer draws are clipped.
    public static let maximumNanoseconds: Int64 = 60_000_000_000

    /// The mean of the model in milliseconds.
    public var meanMilliseconds: Double {
        switch self {
        case .fixed(let ms), .uniform(let ms, _), .exponential(let ms), .lognormal(let ms, _): ms
        }
    }

    /// The model's kind as written in JSON: `fixed`, `uniform`, `exponential` or `lognormal`.
    public var kind: String {
        switch self {
        case .fixed: "fixed"
        case .uniform: "uniform"
        case .exponential: "exponential"
        case .lognormal: "lognormal"
        }
    }

    /// Draws one latency in nanoseconds, clipped to 0...60 s.
    public func sampleNanoseconds<G: RandomNumberGenerator>(using generator: inout G) -> Int64 {
        let ms: Double
        switch self {
        case .fixed(let mean):
            ms = mean
        case .uniform(let mean, let jitter):
            let u = SplitMix64.unitInterval(generator.next())
            ms = mean * (1 - jitter + 2 * jitter * u)
        case .exponential(let mean):
            let u = SplitMix64.unitInterval(generator.next())
            ms = -mean * log(1 - u)
        case .lognormal(let mean, let sigma):
            guard mean > 0 else { return 0 }
            // Box-Muller; 1 - u1 is in (0, 1], so the logarithm is finite.
            let u1 = 1 - SplitMix64.unitInterval(generator.next())
            let u2 = SplitMix64.unitInterval(generator.next())
            let normal = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
            let mu = log(mean) - sigma * sigma / 2
            ms = exp(mu + sigma * normal)
        }
        let ns = ms * 1_000_000
        guard ns.isFinite, ns > 0 else { return 0 }
        return ns >= Double(Self.maximumNanoseconds) ? Self.maximumNanoseconds : Int64(ns)
    }

    /// Checks the parameters; `path` names the JSON key in the error.
    func validate(path: String) throws(MockServerConfigurationError) {
        let ms = meanMilliseconds
        guard ms.isFinite, ms >= 0, ms <= 60_000 else {
            throw .invalid(key: "\(path).ms", value: "\(ms)", allowed: "a number of milliseconds in 0...60000")
        }
        switch self {
        case .fixed, .exponential:
            break
        case .uniform(_, let jitter):
            guard jitter.isFinite, jitter >= 0, jitter <= 1 else {
                throw .invalid(key: "\(path).jitter", value: "\(jitter)", allowed: "a fraction in 0...1")
            }
        case .lognormal(_, let sigma):
            guard sigma.isFinite, sigma >= 0, sigma <= 10 else {
                throw .invalid(key: "\(path).sigma", value: "\(sigma)", allowed: "a number in 0...10")
            }
        }
    }
}

extension LatencyModel: Codable {
    private enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, ms, jitter, sigma
    }

    /// Decodes `{"kind": ..., "ms": ..., ...}`; `kind` defaults to `fixed`, `ms` to 0, `jitter` to 0.1 and
    /// `sigma` to 0.5. Throws `DecodingError` for an unknown kind or key.
    public init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try container.decodeIfPresent(String.self, forKey: .kind) ?? "fixed"
        let ms = try container.decodeIfPresent(Double.self, forKey: .ms) ?? 0
        switch kind {
        case "fixed":
            self = .fixed(ms: ms)
        case "uniform":
            self = .uniform(ms: ms, jitter: try container.decodeIfPresent(Double.self, forKey: .jitter) ?? 0.1)
        case "exponential":
            self = .exponential(ms: ms)
        case "lognormal":
            self = .lognormal(ms: ms, sigma: try container.decodeIfPresent(Double.self, forKey: .sigma) ?? 0.5)
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: container,
                debugDescription: "unknown latency kind '\(kind)'; allowed: fixed, uniform, exponential, lognormal"
            )
        }
    }

    /// Encodes the JSON form described on the type.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(meanMilliseconds, forKey: .ms)
        switch self {
        case .fixed, .exponential:
            break
        case .uniform(_, let jitter):
            try container.encode(jitter, forKey: .jitter)
        case .lognormal(_, let sigma):
            try container.encode(sigma, forKey: .sigma)
        }
    }
}
