/// The behavioural settings in force, with the schedule's phase boundaries precomputed. Immutable.
package final class LiveSettings: Sendable {
    package let configuration: MockServerConfiguration
    /// End of each phase, in ns since the schedule started.
    let phaseEnds: [Int64]
    let phaseNames: [String]

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
}
