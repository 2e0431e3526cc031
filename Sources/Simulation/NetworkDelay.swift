import AsyncPatterns

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The network time of a simulated attempt: one round trip per sent attempt, half on the way to the server and half
/// back (the odd nanosecond on the way back).
///
/// A random round trip is drawn from a generator keyed by (the run's seed, the request id's hash, the attempt), so a
/// run gives the same round trips whatever order its events fall in, and they draw nothing from the server's own
/// fault and latency streams.
public enum NetworkDelay: Sendable, Hashable {
    /// The same round trip for every attempt; `.fixed(.zero)` (the default) adds no network time.
    case fixed(Duration)
    /// A round trip of |N(mean, standardDeviation)|: the normal draw folded at zero, as in the AWS backoff study's
    /// network delay of |N(10 ms, 2 ms)|.
    case absNormal(mean: Duration, standardDeviation: Duration)

    /// The AWS "Exponential Backoff and Jitter" study's network delay: |N(10 ms, 2 ms)| per round trip.
    public static let awsBackoffStudy = NetworkDelay.absNormal(
        mean: .milliseconds(10), standardDeviation: .milliseconds(2))

    /// Throws `SimulationError.invalid` for a negative round trip, mean or standard deviation.
    func validate() throws(SimulationError) {
        switch self {
        case .fixed(let roundTrip):
            guard roundTrip >= .zero else {
                throw .invalid(key: "network.fixed", value: "\(roundTrip)", allowed: "a round trip >= 0")
            }
        case .absNormal(let mean, let standardDeviation):
            guard mean >= .zero else {
                throw .invalid(key: "network.mean", value: "\(mean)", allowed: "a duration >= 0")
            }
            guard standardDeviation >= .zero else {
                throw .invalid(
                    key: "network.standardDeviation", value: "\(standardDeviation)", allowed: "a duration >= 0")
            }
        }
    }
}

/// `NetworkDelay` in nanoseconds, ready for the simulator's hot path.
struct NetworkModel {
    /// A round trip's two halves, in ns.
    struct Trip {
        /// Client to server.
        var upNs: Int64
        /// Server to client.
        var downNs: Int64
    }

    private static let salt: UInt64 = 0x4E37_0000_0000_0005

    /// The fixed round trip, or nil when round trips are drawn.
    private let fixed: Trip?
    private let meanNs: Double
    private let standardDeviationNs: Double
    private let seed: UInt64

    /// `delay` for a run seeded with `seed`.
    init(_ delay: NetworkDelay, seed: UInt64) {
        self.seed = seed
        switch delay {
        case .fixed(let roundTrip):
            fixed = Self.split(VirtualClock.nanoseconds(roundTrip))
            meanNs = 0
            standardDeviationNs = 0
        case .absNormal(let mean, let standardDeviation):
            let sd = VirtualClock.nanoseconds(standardDeviation)
            let meanNs = VirtualClock.nanoseconds(mean)
            fixed = sd == 0 ? Self.split(meanNs) : nil
            self.meanNs = Double(meanNs)
            standardDeviationNs = Double(sd)
        }
    }

    /// The round trip of attempt `attempt` of the request whose id hashes to `idHash`.
    @inline(__always)
    func trip(idHash: UInt64, attempt: Int32) -> Trip {
        if let fixed { return fixed }
        return Self.split(roundTripNs(idHash: idHash, attempt: attempt))
    }

    /// |N(mean, sd)| by Box-Muller, from a generator keyed by (seed, id hash, attempt, salt); 1 - u1 is in (0, 1],
    /// so the logarithm is finite.
    private func roundTripNs(idHash: UInt64, attempt: Int32) -> Int64 {
        var generator = SplitMix64(
            seed: StableHash.combine(seed, idHash, UInt64(bitPattern: Int64(attempt)), Self.salt))
        let u1 = 1 - SplitMix64.unitInterval(generator.next())
        let u2 = SplitMix64.unitInterval(generator.next())
        let normal = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
        let ns = abs(meanNs + standardDeviationNs * normal)
        return ns < 9.0e18 ? Int64(ns) : .max
    }

    @inline(__always)
    private static func split(_ roundTripNs: Int64) -> Trip {
        Trip(upNs: roundTripNs / 2, downNs: roundTripNs - roundTripNs / 2)
    }
}
