extension MockServerConfiguration {
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
        package var secondsRange: ClosedRange<Int>? {
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
