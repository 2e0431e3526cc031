extension MockServerConfiguration {
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
}
