/// The behavioural settings in force, with the schedule's phase boundaries precomputed. Immutable.
package final class LiveSettings: Sendable {
    /// The error rate, latency model and fault mix in force at one moment, and the schedule phase they come from.
    package struct Effective: Sendable, Hashable {
        /// The fraction of requests that fail, 0...1.
        package var errorRate: Double
        /// The latency model of a request's service time.
        package var latency: LatencyModel
        /// The weights of the fault kinds a failing request draws from.
        package var faults: MockServerConfiguration.FaultMix
        /// The index in `configuration.schedule` of the phase in force, or nil for the base settings.
        package var phase: Int?
    }

    package let configuration: MockServerConfiguration
    /// End of each phase, in ns since the schedule started.
    let phaseEnds: [Int64]
    let phaseNames: [String]
    /// The base settings, and each phase's (the base with the fields the phase sets replaced): plain values, so
    /// that `effective(elapsed:)` copies no array and retains nothing.
    private let base: Effective
    private let phases: [Effective]

    package init(_ configuration: MockServerConfiguration) {
        self.configuration = configuration
        var ends: [Int64] = []
        var total: Int64 = 0
        for phase in configuration.schedule {
            total += Int64(phase.durationMs * 1_000_000)
            ends.append(total)
        }
        self.phaseEnds = ends
        self.phaseNames = configuration.schedule.enumerated().map { index, phase in phase.name ?? "phase\(index)" }
        let base = Effective(
            errorRate: configuration.errorRate, latency: configuration.latency, faults: configuration.faults,
            phase: nil)
        self.base = base
        self.phases = configuration.schedule.enumerated().map { index, phase in
            Effective(
                errorRate: phase.errorRate ?? base.errorRate, latency: phase.latency ?? base.latency,
                faults: phase.faults ?? base.faults, phase: index)
        }
    }

    /// The phase index in force `elapsed` ns after the schedule started, or nil for the base settings.
    package func phaseIndex(elapsed: Int64) -> Int? {
        guard let total = phaseEnds.last, total > 0 else { return nil }
        var t = elapsed
        if t >= total {
            guard configuration.repeatSchedule else { return nil }
            t %= total
        }
        for (index, end) in phaseEnds.enumerated() where t < end { return index }
        return nil
    }

    /// The error rate, latency model and fault mix in force `elapsed` ns after the schedule started: the fields the
    /// phase in force sets, the base configuration's for the others (and for all of them outside any phase). The
    /// live server and the simulation's server model both decide a request's service from this.
    @inline(__always)
    package func effective(elapsed: Int64) -> Effective {
        guard !phases.isEmpty, let index = phaseIndex(elapsed: elapsed) else { return base }
        return phases[index]
    }
}
