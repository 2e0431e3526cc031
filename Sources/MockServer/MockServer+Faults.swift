import AsyncPatterns

extension MockServer {
    private static let faultKindSalt: UInt64 = 0xFA17_0000_0000_0001
    private static let latencySalt: UInt64 = 0x1A7E_0000_0000_0002
    private static let retryAfterSalt: UInt64 = 0x4E7A_0000_0000_0003
    private static let arrivalSalt: UInt64 = 0xA441_0000_0000_0004

    /// Whether the server fails this attempt: a pure function of (seed, request id, attempt, error rate).
    public static func shouldFail(seed: UInt64, requestID: String, attempt: Int, errorRate: Double) -> Bool {
        failureUnit(seed: seed, idHash: StableHash.hash(requestID), attempt: attempt) < errorRate
    }

    /// The fault kind a failing attempt gets from `mix`: a pure function of (seed, request id, attempt, mix).
    public static func faultKind(
        seed: UInt64, requestID: String, attempt: Int, mix: MockServerConfiguration.FaultMix
    ) -> MockServerConfiguration.FaultKind {
        faultKind(seed: seed, idHash: StableHash.hash(requestID), attempt: attempt, mix: mix)
    }

    /// The uniform draw in [0, 1) compared with the error rate.
    package static func failureUnit(seed: UInt64, idHash: UInt64, attempt: Int) -> Double {
        SplitMix64.unitInterval(StableHash.combine(seed, idHash, UInt64(bitPattern: Int64(attempt))))
    }

    package static func faultKind(
        seed: UInt64, idHash: UInt64, attempt: Int, mix: MockServerConfiguration.FaultMix
    ) -> MockServerConfiguration.FaultKind {
        let bits = StableHash.combine(seed, idHash, UInt64(bitPattern: Int64(attempt)), faultKindSalt)
        return mix.pick(unit: SplitMix64.unitInterval(bits))
    }

    /// The generator of a request's latency draw.
    package static func latencyGenerator(seed: UInt64, idHash: UInt64, attempt: Int) -> SplitMix64 {
        SplitMix64(seed: StableHash.combine(seed, idHash, UInt64(bitPattern: Int64(attempt)), latencySalt))
    }

    /// The `Retry-After` seconds of a 429 or an over-capacity 503: uniform in `range`, a pure function of (seed,
    /// request id, attempt).
    package static func retryAfterSeconds(seed: UInt64, idHash: UInt64, attempt: Int, range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound + 1)
        let bits = StableHash.combine(seed, idHash, UInt64(bitPattern: Int64(attempt)), retryAfterSalt)
        return range.lowerBound + Int(bits % span)
    }

    /// The identity hash of a request that carries no id: its arrival number.
    static func arrivalHash(_ arrival: UInt64) -> UInt64 {
        StableHash.combine(arrivalSalt, arrival)
    }
}
