import AsyncPatterns

/// A parameter value of a cell: the experiment's axes and fixed settings are made of these.
public enum ParameterValue: Sendable, Hashable, Comparable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case string(String)

    /// The canonical JSON text of the value (integers without a fraction, doubles in shortest form).
    public var json: String {
        switch self {
        case .int(let v): return String(v)
        case .double(let v): return v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)"
        case .string(let v): return JSONString.quoted(v)
        }
    }

    /// The value as shown to people.
    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .double(let v): return v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)"
        case .string(let v): return v
        }
    }

    /// The value as a double, when numeric.
    public var number: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let v): return v
        case .string: return nil
        }
    }

    public static func < (lhs: ParameterValue, rhs: ParameterValue) -> Bool {
        if let l = lhs.number, let r = rhs.number { return l < r }
        return lhs.description < rhs.description
    }
}

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
    /// A retry budget: `none`, `token:<max tokens>` or `ratio:<fraction>`.
    case budget
}

/// The parameters a spec may set in `axes` or `fixed`, with their defaults. Every cell carries all of them,
/// so the report can show any of them.
enum Parameters {
    struct Definition {
        let kind: ParameterKind
        let defaultValue: ParameterValue
        let help: String
    }

    static let definitions: [String: Definition] = [
        "concurrency": .init(
            kind: .integer(1...8192), defaultValue: .int(1),
            help: "closed loop: workers; open loop: cap on requests in flight"),
        "latencyMs": .init(kind: .number(0...60_000), defaultValue: .double(0), help: "server latency, ms"),
        "jitter": .init(
            kind: .number(0...1), defaultValue: .double(0), help: "server latency jitter, fraction of latencyMs"),
        "latencyModel": .init(
            kind: .choice(["uniform", "exponential", "lognormal"]), defaultValue: .string("uniform"),
            help: "server latency distribution (uniform = latencyMs ± jitter)"),
        "errorRate": .init(
            kind: .number(0...1), defaultValue: .double(0), help: "fraction of requests the server fails"),
        "pooling": .init(
            kind: .choice(["pooled", "naive"]), defaultValue: .string("pooled"),
            help: "reuse connections, or a new connection per request"),
        "load": .init(
            kind: .choice(["closed", "fixed", "poisson"]), defaultValue: .string("closed"),
            help: "closed loop, or open loop with fixed-interval or Poisson arrivals"),
        "rate": .init(
            kind: .number(0...1_000_000), defaultValue: .double(0), help: "open loop: arrivals per second"),
        "path": .init(kind: .path, defaultValue: .string("/get"), help: "the path every request asks for"),
        "backoff": .init(
            kind: .choice(["off", "none", "exponential", "full", "equal", "decorrelated"]),
            defaultValue: .string("off"), help: "retry backoff strategy; off = no retries"),
        "maxAttempts": .init(
            kind: .integer(1...100), defaultValue: .int(3), help: "attempts per request, the first included"),
        "baseMs": .init(kind: .number(0...60_000), defaultValue: .double(10), help: "backoff base delay, ms"),
        "capMs": .init(kind: .number(0...600_000), defaultValue: .double(1000), help: "backoff cap, ms"),
        "budget": .init(
            kind: .budget, defaultValue: .string("none"),
            help: "retry budget: none, token:<max tokens> or ratio:<fraction>"),
        "breaker": .init(kind: .choice(["off", "on"]), defaultValue: .string("off"), help: "circuit breaker"),
        "timeoutMs": .init(kind: .number(1...600_000), defaultValue: .double(10_000), help: "request timeout, ms"),
        "recorderPolicy": .init(
            kind: .choice(["block", "drop_newest", "drop_oldest"]), defaultValue: .string("block"),
            help: "what the sample pipeline does when full: slow the engine down, or drop samples"),
        "recorderCapacity": .init(
            kind: .integer(16...10_000_000), defaultValue: .int(65_536), help: "sample pipeline capacity, samples"),
        "recorderBatch": .init(
            kind: .integer(1...1_000_000), defaultValue: .int(8192), help: "samples per database transaction"),
        "writerDelayMs": .init(
            kind: .number(0...10_000), defaultValue: .double(0),
            help: "extra time the database writer spends per batch, ms: makes the consumer slower than the engine"),
        "connectTimeoutMs": .init(
            kind: .number(1...600_000), defaultValue: .double(2000), help: "connect timeout, ms"),
    ]

    /// Parameter names in a stable order.
    static var names: [String] { definitions.keys.sorted() }
}
