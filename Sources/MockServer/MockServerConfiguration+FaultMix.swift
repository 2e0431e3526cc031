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
}
