import AsyncPatterns
import Foundation

/// When each logical request is meant to start, for the open-loop load models.
///
/// Times are nanoseconds on the run clock from `originNs`. Fixed-rate arrivals are evenly spaced; Poisson
/// arrivals draw exponential gaps from `SplitMix64` seeded with the configuration's seed, so a seed always
/// gives the same schedule. Arrivals are produced in id order, one per call to `next()`.
package struct ArrivalSchedule: Sendable {
    private enum Kind: Sendable {
        case fixed(intervalNs: Double)
        case poisson(meanGapNs: Double)
    }

    private let kind: Kind
    private let originNs: Int64
    private var generator: SplitMix64
    private var index = 0
    private var poissonAtNs = 0.0

    /// Builds the schedule for `configuration`, or nil for the closed loop.
    package init?(_ configuration: EngineConfiguration, originNs: Int64) {
        switch configuration.load {
        case .closed:
            return nil
        case .openFixed(let rate):
            precondition(rate > 0, "open-loop rate must be positive")
            self.kind = .fixed(intervalNs: 1e9 / rate)
        case .openPoisson(let rate):
            precondition(rate > 0, "open-loop rate must be positive")
            self.kind = .poisson(meanGapNs: 1e9 / rate)
        }
        self.originNs = originNs
        self.generator = SplitMix64(seed: configuration.seed)
    }

    /// The intended start of the next logical request (ids in order from 0), in ns on the run clock.
    package mutating func next() -> Int64 {
        defer { index += 1 }
        switch kind {
        case .fixed(let intervalNs):
            return originNs + Int64(Double(index) * intervalNs)
        case .poisson(let meanGapNs):
            let at = originNs + Int64(poissonAtNs)
            // Exponential gap with the given mean: -ln(1 - U) * mean, U in [0, 1).
            let u = SplitMix64.unitInterval(generator.next())
            poissonAtNs += -Foundation.log(1 - u) * meanGapNs
            return at
        }
    }
}
