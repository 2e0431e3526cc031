import AsyncPatterns

extension MockServer {
    fileprivate static let faultKindSalt: UInt64 = 0xFA17_0000_0000_0001
    fileprivate static let latencySalt: UInt64 = 0x1A7E_0000_0000_0002
    fileprivate static let retryAfterSalt: UInt64 = 0x4E7A_0000_0000_0003
    private static let arrivalSalt: UInt64 = 0xA441_0000_0000_0004

    /// Whether the server fails this attempt: a pure function of (seed, request id, attempt, error rate).
    public static func shouldFail(seed: UInt64, requestID: String, attempt: Int, errorRate: Double) -> Bool {
        AttemptKey(seed: seed, idHash: StableHash.hash(requestID), attempt: attempt).failureUnit < errorRate
    }

    /// The fault kind a failing attempt gets from `mix`: a pure function of (seed, request id, attempt, mix).
    public static func faultKind(
        seed: UInt64, requestID: String, attempt: Int, mix: MockServerConfiguration.FaultMix
    ) -> MockServerConfiguration.FaultKind {
        AttemptKey(seed: seed, idHash: StableHash.hash(requestID), attempt: attempt).faultKind(mix: mix)
    }

    /// Every draw the server makes for one attempt — whether it fails, its fault kind, its latency, its
    /// `Retry-After` — from one hash of (seed, request id hash, attempt), each draw extending it with its own salt.
    /// The live server and the simulation both decide through it.
    package struct AttemptKey {
        /// `StableHash.combine(seed, idHash, attempt)`.
        let bits: UInt64

        @inline(__always)
        package init(seed: UInt64, idHash: UInt64, attempt: Int) {
            bits = StableHash.combine(seed, idHash, UInt64(bitPattern: Int64(attempt)))
        }

        /// The uniform draw in [0, 1) compared with the error rate.
        @inline(__always)
        package var failureUnit: Double { SplitMix64.unitInterval(bits) }

        /// The fault kind a failing attempt gets from `mix`.
        @inline(__always)
        package func faultKind(mix: MockServerConfiguration.FaultMix) -> MockServerConfiguration.FaultKind {
            mix.pick(unit: SplitMix64.unitInterval(StableHash.extend(bits, with: MockServer.faultKindSalt)))
        }

        /// The generator of the attempt's latency draw.
        @inline(__always)
        package var latencyGenerator: SplitMix64 {
            SplitMix64(seed: StableHash.extend(bits, with: MockServer.latencySalt))
        }

        /// The `Retry-After` seconds, uniform in `range`.
        package func retryAfterSeconds(range: ClosedRange<Int>) -> Int {
            let span = UInt64(range.upperBound - range.lowerBound + 1)
            return range.lowerBound + Int(StableHash.extend(bits, with: MockServer.retryAfterSalt) % span)
        }
    }

    /// The identity hash of a request that carries no id: its arrival number.
    static func arrivalHash(_ arrival: UInt64) -> UInt64 {
        StableHash.combine(arrivalSalt, arrival)
    }
}
