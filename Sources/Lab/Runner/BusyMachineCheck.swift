import Foundation
import LabStore

/// Counts the cells during which the machine was busy with something other than the experiment: CPU stolen by the
/// hypervisor above `stealLimit`, or CPU of other processes (the machine's busy time less steal, the client's and the
/// mock server's; steal is counted apart from every process's time, so it is not another process) above `otherLimit`
/// of the CPU time available. Their latencies and throughput may be noisy.
struct BusyMachineCheck: Sendable {
    /// Steal above this share of the CPU time available marks a cell: 0.05.
    static let stealLimit = 0.05
    /// Other processes' CPU above this share of the CPU time available marks a cell: 0.10.
    static let otherLimit = 0.10
    /// Cells with less CPU time available than this are not judged: /proc/stat counts in ticks of 10 ms, so one
    /// tick in a short cell would be a large share. 1 s.
    static let minimumTotalSeconds = 1.0

    /// Cells judged (with machine figures and enough CPU time).
    private(set) var judged = 0
    /// Cells over a limit.
    private(set) var busy = 0
    /// The largest steal share seen over its limit, with its cell's label.
    private(set) var worstSteal: (share: Double, label: String)?
    /// The largest other-process share seen over its limit, with its cell's label.
    private(set) var worstOther: (share: Double, label: String)?

    /// Judges one stored cell; `label` names it in the warning.
    mutating func record(_ cell: CellRecord, label: String) {
        guard let machine = cell.machine, machine.totalSeconds >= Self.minimumTotalSeconds else { return }
        judged += 1
        let client = cell.client.map { $0.cpuUserSeconds + $0.cpuSysSeconds } ?? 0
        let server = (cell.server?.cpuUserSeconds ?? 0) + (cell.server?.cpuSysSeconds ?? 0)
        let steal = machine.stealSeconds / machine.totalSeconds
        let other = max(0, machine.busySeconds - machine.stealSeconds - client - server) / machine.totalSeconds
        if steal > Self.stealLimit, steal > worstSteal?.share ?? 0 { worstSteal = (steal, label) }
        if other > Self.otherLimit, other > worstOther?.share ?? 0 { worstOther = (other, label) }
        if steal > Self.stealLimit || other > Self.otherLimit { busy += 1 }
    }

    /// Before a sweep: measures the machine for half a second, while the lab is idle, and returns a warning when
    /// other processes took more than a tenth of a CPU or the hypervisor stole more than `stealLimit`; nil on a
    /// quiet machine or without /proc/stat.
    static func atStart(seconds: Double = 0.5) async -> String? {
        guard let before = ProcessFigures.machineSnapshot() else { return nil }
        try? await Task.sleep(for: .seconds(seconds))
        guard let after = ProcessFigures.machineSnapshot() else { return nil }
        let figures = after.since(before)
        let wall = figures.totalSeconds / Double(ProcessFigures.cpusOnline)
        guard wall > 0 else { return nil }
        let other = max(0, figures.busySeconds - figures.stealSeconds) / wall
        let steal = figures.stealSeconds / figures.totalSeconds
        guard other > 0.1 || steal > stealLimit else { return nil }
        return "warning: the machine is busy before the sweep starts: other processes use "
            + String(format: "%.2f", other) + " CPUs and the hypervisor steals " + String(format: "%.1f%%", steal * 100)
            + " of the CPU time; stop other work for figures worth citing (each cell's figures are recorded either way)"
    }

    /// One line for stderr when any cell was over a limit, naming how many and the worst figures; nil otherwise.
    /// With `target`, the target server's own CPU counts as other processes, and the line says so.
    func warning(target: Bool) -> String? {
        guard busy > 0 else { return nil }
        func percent(_ share: Double) -> String { String(format: "%.1f%%", share * 100) }
        let worst = [
            worstSteal.map { "CPU steal \(percent($0.share)) in `\($0.label)`" },
            worstOther.map { "other processes \(percent($0.share)) in `\($0.label)`" },
        ].compactMap { $0 }
        return "warning: the machine was busy during \(busy) of \(judged) cells (CPU steal above "
            + "\(percent(Self.stealLimit)) or other processes above \(percent(Self.otherLimit)) of the CPU time); "
            + "worst: \(worst.joined(separator: ", "))"
            + (target ? " (with --target, a target server on this machine counts as other processes)" : "")
            + "; results may be noisy"
    }
}
