extension MockServerConfiguration {
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
}
