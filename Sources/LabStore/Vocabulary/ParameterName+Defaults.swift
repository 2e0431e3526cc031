extension ParameterName {
    /// The kind of value a parameter holds, as `cells.params` stores it.
    public enum ValueType: Sendable, Hashable {
        /// A whole number, stored as `.int`.
        case integer
        /// A number, stored as `.double` (whole numbers are written without a fraction).
        case number
        /// A word or a setting with its own syntax (`off`, `k:2`, `token:10`, a path), stored as `.string`.
        case text
        /// A number stored as `.double`, or a word such as `none` stored as `.string`.
        case numberOrText
    }

    /// The kind of value the parameter holds; the runner's registry checks the range or the syntax.
    public var valueType: ValueType {
        switch self {
        case .concurrency, .maxAttempts, .recorderCapacity, .recorderBatch: .integer
        case .latencyMs, .jitter, .errorRate, .rate, .baseMs, .capMs, .timeoutMs, .writerDelayMs, .connectTimeoutMs,
            .networkMs, .networkSdMs:
            .number
        case .latencyModel, .pooling, .load, .path, .backoff, .budget, .breaker, .throttle, .limiter, .recorderPolicy:
            .text
        case .acquireTimeoutMs: .numberOrText
        }
    }

    /// The value a cell carries when its spec sets none. Every cell stores every parameter, so changing a default
    /// changes the canonical text, and with it the ids and seeds, of every cell planned afterwards.
    public var defaultValue: ParameterValue {
        switch self {
        case .concurrency: .int(1)
        case .latencyMs: .double(0)
        case .jitter: .double(0)
        case .latencyModel: .string("uniform")
        case .errorRate: .double(0)
        case .pooling: .string("pooled")
        case .load: .string("closed")
        case .rate: .double(0)
        case .path: .string("/get")
        case .backoff: .string("off")
        case .maxAttempts: .int(3)
        case .baseMs: .double(10)
        case .capMs: .double(1000)
        case .budget: .string("none")
        case .breaker: .string("off")
        case .throttle: .string("off")
        case .limiter: .string("off")
        case .acquireTimeoutMs: .string("none")
        case .timeoutMs: .double(10_000)
        case .recorderPolicy: .string("block")
        case .recorderCapacity: .int(65_536)
        case .recorderBatch: .int(8192)
        case .writerDelayMs: .double(0)
        case .connectTimeoutMs: .double(2000)
        case .networkMs: .double(0)
        case .networkSdMs: .double(0)
        }
    }

    /// Whether a cell stores the parameter when it holds its default value. Parameters added after cell ids were
    /// first published are stored only when a spec sets them away from their default, so adding one keeps every
    /// existing cell's canonical text, and with it its id and seeds.
    public var isStoredAtDefault: Bool {
        switch self {
        case .networkMs, .networkSdMs: false
        default: true
        }
    }

    /// `value` as this parameter stores it: a whole number as `.int` for an integer parameter and as `.double` for
    /// a number. Only the case changes, never the canonical text (`json`).
    public func typed(_ value: ParameterValue) -> ParameterValue {
        switch value {
        case .double(let v) where valueType == .integer && v == v.rounded() && abs(v) < 1e15:
            .int(Int(v))
        case .int(let v) where (valueType == .number || valueType == .numberOrText) && abs(v) < 1_000_000_000_000_000:
            .double(Double(v))
        default: value
        }
    }
}
