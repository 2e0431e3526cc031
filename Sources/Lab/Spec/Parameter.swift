import AsyncPatterns
import Foundation
import LabStore

/// What a parameter accepts.
enum ParameterKind: Sendable {
    /// A whole number in a range.
    case integer(ClosedRange<Int>)
    /// A number in a range.
    case number(ClosedRange<Double>)
    /// One of a set of words.
    case choice([String])
    /// A URL path starting with `/`.
    case path
    /// A value with its own syntax (such as `off` or `k:2`), parsed and checked by `syntax`.
    case setting(ParameterSyntax)
}

/// How a parameter with its own syntax is read: what it allows (for errors), and its canonical value.
struct ParameterSyntax: Sendable {
    /// What the parameter accepts, as shown in errors, e.g. "`off` or `k:<K greater than 0 and at most 100>`".
    let allowed: String
    /// The canonical value of a JSON value, or nil when it is not allowed.
    let parse: @Sendable (SpecValue) -> ParameterValue?

    /// The retry budget: `none`, `token:<max tokens>` or `ratio:<fraction>`, kept as written.
    static let budget = ParameterSyntax(
        allowed: "`none`, `token:<max tokens from 1 to 10000>` or `ratio:<fraction from 0 to 1>`",
        parse: { value in value.stringValue.flatMap { RetryBudgetSetting($0) == nil ? nil : .string($0) } })

    /// The adaptive throttle: `off` or `k:<K>`, K in (0, 100].
    static let throttle = ParameterSyntax(
        allowed: "`off` or `k:<K greater than 0 and at most 100>`",
        parse: { ThrottleSetting(json: $0).map { .string($0.text) } })

    /// The concurrency limiter: `off` or `limit:<n>`, n in 1...100000.
    static let limiter = ParameterSyntax(
        allowed: "`off` or `limit:<permits from 1 to 100000>`",
        parse: { LimiterSetting(json: $0).map { .string($0.text) } })

    /// The limiter's acquire timeout: milliseconds in 0...3600000, or `none` (wait forever).
    static let acquireTimeout = ParameterSyntax(
        allowed: "a number of milliseconds from 0 to 3600000, or `none` (wait for a permit forever)",
        parse: { AcquireTimeoutSetting(json: $0)?.value })
}

/// The `throttle` parameter: off, or the SRE book's adaptive throttle with multiplier K.
enum ThrottleSetting: Sendable, Hashable {
    case off
    case k(Double)

    /// Parses `off` or `k:<K>` with K in (0, 100]; nil otherwise.
    init?(_ text: String) {
        if text == "off" {
            self = .off
            return
        }
        guard text.hasPrefix("k:"), let k = Double(text.dropFirst(2)), k.isFinite, k > 0, k <= 100 else {
            return nil
        }
        self = .k(k)
    }

    init?(json: SpecValue) {
        guard let text = json.stringValue else { return nil }
        self.init(text)
    }

    /// The canonical text: `off` or `k:<K>` with K in shortest form (`k:2.0` becomes `k:2`).
    var text: String {
        switch self {
        case .off: "off"
        case .k(let k): "k:\(ParameterValue.double(k).description)"
        }
    }
}

/// The `limiter` parameter: off, or a concurrency limiter with `limit` permits.
enum LimiterSetting: Sendable, Hashable {
    case off
    case limit(Int)

    /// Parses `off` or `limit:<n>` with n in 1...100000; nil otherwise.
    init?(_ text: String) {
        if text == "off" {
            self = .off
            return
        }
        guard text.hasPrefix("limit:"), let n = Int(text.dropFirst(6)), (1...100_000).contains(n) else { return nil }
        self = .limit(n)
    }

    init?(json: SpecValue) {
        guard let text = json.stringValue else { return nil }
        self.init(text)
    }

    /// The canonical text: `off` or `limit:<n>`.
    var text: String {
        switch self {
        case .off: "off"
        case .limit(let n): "limit:\(n)"
        }
    }
}

/// The `acquireTimeoutMs` parameter: how long an attempt waits for a limiter permit.
enum AcquireTimeoutSetting: Sendable, Hashable {
    /// Wait forever.
    case none
    /// Wait at most this many milliseconds, 0...3600000.
    case milliseconds(Double)

    /// Reads `none` or a number in 0...3600000 (not a boolean) from a JSON value; nil otherwise.
    init?(json: SpecValue) {
        if let text = json.stringValue {
            guard text == "none" else { return nil }
            self = .none
            return
        }
        guard let ms = json.numberValue, (0...3_600_000).contains(ms) else { return nil }
        self = .milliseconds(ms)
    }

    /// Reads a cell's value back: `.string("none")` or a number.
    init?(_ value: ParameterValue) {
        switch value {
        case .string("none"): self = .none
        case .string: return nil
        case .int, .double:
            guard let ms = value.number, (0...3_600_000).contains(ms) else { return nil }
            self = .milliseconds(ms)
        }
    }

    /// The parameter value: `.string("none")` or `.double(ms)`.
    var value: ParameterValue {
        switch self {
        case .none: .string("none")
        case .milliseconds(let ms): .double(ms)
        }
    }

    /// The timeout in milliseconds, or nil for none.
    var milliseconds: Double? {
        switch self {
        case .none: nil
        case .milliseconds(let ms): ms
        }
    }
}

/// The parameters a spec may set in `axes` or `fixed`: how each is checked. Their value types and defaults are
/// `ParameterName`'s (in LabStore); every cell carries all of them, so the report can show any of them.
enum Parameters {
    /// How a parameter is checked and explained; its value type and default are `ParameterName`'s.
    struct Definition {
        let kind: ParameterKind
        let help: String
    }

    /// Every parameter, by its name: the names are the shared `ParameterName`s the report charts by.
    static let registry: [ParameterName: Definition] = [
        .concurrency: .init(
            kind: .integer(1...8192), help: "closed loop: workers; open loop: cap on requests in flight"),
        .latencyMs: .init(kind: .number(0...60_000), help: "server latency, ms"),
        .jitter: .init(kind: .number(0...1), help: "server latency jitter, fraction of latencyMs"),
        .latencyModel: .init(
            kind: .choice(["uniform", "exponential", "lognormal"]),
            help: "server latency distribution (uniform = latencyMs ± jitter)"),
        .errorRate: .init(kind: .number(0...1), help: "fraction of requests the server fails"),
        .pooling: .init(
            kind: .choice(["pooled", "naive"]), help: "reuse connections, or a new connection per request"),
        .load: .init(
            kind: .choice(["closed", "fixed", "poisson"]),
            help: "closed loop, or open loop with fixed-interval or Poisson arrivals"),
        .rate: .init(kind: .number(0...1_000_000), help: "open loop: arrivals per second"),
        .path: .init(kind: .path, help: "the path every request asks for"),
        .backoff: .init(
            kind: .choice(["off", "none", "exponential", "full", "equal", "decorrelated"]),
            help: "retry backoff strategy; off = no retries"),
        .maxAttempts: .init(kind: .integer(1...100), help: "attempts per request, the first included"),
        .baseMs: .init(kind: .number(0...60_000), help: "backoff base delay, ms"),
        .capMs: .init(kind: .number(0...600_000), help: "backoff cap, ms"),
        .budget: .init(kind: .setting(.budget), help: "retry budget: none, token:<max tokens> or ratio:<fraction>"),
        .breaker: .init(kind: .choice(["off", "on"]), help: "circuit breaker"),
        .throttle: .init(
            kind: .setting(.throttle), help: "adaptive client-side throttle (SRE book): off or k:<K>, K in (0, 100]"),
        .limiter: .init(
            kind: .setting(.limiter),
            help: "concurrency limiter (bulkhead) over the cell's attempts in flight: off or limit:<permits>"),
        .acquireTimeoutMs: .init(
            kind: .setting(.acquireTimeout),
            help: "longest wait for a limiter permit, ms, or none (wait forever); used when limiter is on"),
        .timeoutMs: .init(kind: .number(1...600_000), help: "request timeout, ms"),
        .recorderPolicy: .init(
            kind: .choice(["block", "drop_newest", "drop_oldest"]),
            help: "what the sample pipeline does when full: slow the engine down, or drop samples"),
        .recorderCapacity: .init(kind: .integer(16...10_000_000), help: "sample pipeline capacity, samples"),
        .recorderBatch: .init(kind: .integer(1...1_000_000), help: "samples per database transaction"),
        .writerDelayMs: .init(
            kind: .number(0...10_000),
            help: "extra time the database writer spends per batch, ms: makes the consumer slower than the engine"),
        .connectTimeoutMs: .init(kind: .number(1...600_000), help: "connect timeout, ms"),
        .networkMs: .init(
            kind: .number(0...60_000),
            help: "the sim engine's network round trip per attempt, mean, ms; live engines run over loopback (0 only)"),
        .networkSdMs: .init(
            kind: .number(0...60_000),
            help: "standard deviation of the sim engine's round trip, ms: 0 fixed, else |N(networkMs, networkSdMs)|"),
    ]

    /// The registry by the names' text, as specs spell them.
    static let definitions: [String: Definition] = Dictionary(
        uniqueKeysWithValues: registry.map { ($0.key.rawValue, $0.value) })

    /// Parameter names in a stable order.
    static var names: [String] { definitions.keys.sorted() }
}

/// A parsed retry budget setting.
enum RetryBudgetSetting: Sendable, Hashable {
    case none
    case token(maxTokens: Double)
    case ratio(Double)

    init?(_ text: String) {
        if text == "none" {
            self = .none
            return
        }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let number = Double(parts[1]), number.isFinite else { return nil }
        switch parts[0] {
        case "token" where (1...10_000).contains(number): self = .token(maxTokens: number)
        case "ratio" where (0...1).contains(number): self = .ratio(number)
        default: return nil
        }
    }
}
