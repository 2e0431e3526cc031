import Foundation
import LabStore

/// CPU and peak-memory readings of a process from /proc (Linux), usable for this process and for the
/// mock server's. The peak (VmHWM) can be reset, so each cell gets its own peak.
package enum ProcessFigures {
    /// The CPU time a process has used, read at one instant. Two of them give a cell's user and system seconds
    /// (`CPUReading.spent(since:)`).
    ///
    /// /proc's utime and stime count whole ticks of USER_HZ (10 ms), which is too coarse for a short cell: the
    /// mock server serves a 2 s cell at concurrency 1 in about 40 ms of CPU, so ticks alone put its CPU per
    /// request anywhere within ±25%. The process's CPU-time clock (`clock_getcpuclockid`, every thread, to the
    /// nanosecond) gives the total; the ticks only split it between user and system.
    package struct CPUReading: Sendable, Hashable {
        /// The process's CPU-time clock, ns.
        package var totalNs: Int64
        /// /proc's utime and stime, ticks.
        package var userTicks: Int64
        package var sysTicks: Int64

        /// User and system seconds from `start` to this reading: the clock's total, split in the ratio of the
        /// ticks counted in between, as the kernel's `getrusage` splits a task's run time; when no tick fell in
        /// between, all of it counts as user time, as the kernel counts it then.
        package func spent(since start: CPUReading) -> (user: Double, sys: Double) {
            let total = Double(max(0, totalNs - start.totalNs)) / 1e9
            let user = max(0, userTicks - start.userTicks)
            let sys = max(0, sysTicks - start.sysTicks)
            guard user + sys > 0 else { return (total, 0) }
            let userShare = Double(user) / Double(user + sys)
            return (total * userShare, total * (1 - userShare))
        }
    }

    /// `pid`'s CPU reading now, or nil where /proc or its CPU-time clock is missing.
    package static func cpuReading(pid: Int32) -> CPUReading? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name: state is field 3, utime 14 and stime 15 (1-based).
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Int64(fields[11]), let sys = Int64(fields[12]) else { return nil }
        var clock = clockid_t()
        var now = timespec()
        guard clock_getcpuclockid(pid, &clock) == 0, clock_gettime(clock, &now) == 0 else { return nil }
        return CPUReading(
            totalNs: Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec), userTicks: user, sysTicks: sys)
    }

    /// Peak resident set size of `pid` since the last reset, in bytes, or nil where /proc is missing.
    package static func peakRSSBytes(pid: Int32? = nil) -> Int64? {
        let path = "/proc/\(pid.map(String.init) ?? "self")/status"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let number = line.split(separator: " ").dropFirst().first.flatMap { Int64($0) }
            return number.map { $0 * 1024 }
        }
        return nil
    }

    /// Resets the peak RSS of `pid` to its current RSS (Linux `clear_refs` value 5). Best effort.
    package static func resetPeakRSS(pid: Int32? = nil) {
        let path = "/proc/\(pid.map(String.init) ?? "self")/clear_refs"
        try? "5".write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// Current resident set size of this process, in bytes, from /proc/self/statm.
    static func residentBytes() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int64(fields[1]) else { return nil }
        return pages * Int64(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The whole machine's CPU counters at one instant: the aggregate `cpu` line of /proc/stat (every CPU summed,
    /// in ticks of USER_HZ) and the time it was read. Two of them make a cell's `MachineFigures`.
    struct MachineSnapshot: Sendable, Hashable {
        /// The aggregate `cpu` line's counters, ticks.
        var ticks: MachineTicks
        /// When it was read.
        var instant: ContinuousClock.Instant

        /// What the machine's CPUs did from `start` to this snapshot: `cpus` (default: those online) × the wall
        /// time between them, the busy ticks and the stolen ticks, in seconds of `ticksPerSecond` (default USER_HZ).
        func since(
            _ start: MachineSnapshot, cpus: Int = ProcessFigures.cpusOnline,
            ticksPerSecond: Double = ProcessFigures.ticksPerSecond
        ) -> MachineFigures {
            let wall = start.instant.duration(to: instant)
            let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
            return MachineFigures(
                totalSeconds: seconds * Double(cpus),
                busySeconds: Double(max(0, ticks.busy - start.ticks.busy)) / ticksPerSecond,
                stealSeconds: Double(max(0, ticks.steal - start.ticks.steal)) / ticksPerSecond)
        }
    }

    /// The counters of /proc/stat's aggregate `cpu` line, in ticks. Fields a kernel does not report (older ones
    /// print fewer) are 0.
    struct MachineTicks: Sendable, Hashable {
        var user: Int64 = 0
        var nice: Int64 = 0
        var system: Int64 = 0
        var idle: Int64 = 0
        var iowait: Int64 = 0
        var irq: Int64 = 0
        var softirq: Int64 = 0
        var steal: Int64 = 0

        /// Ticks some process (or the hypervisor) had the CPUs: user, nice, system, irq, softirq and steal.
        /// Guest time is already counted in user and nice.
        var busy: Int64 { user + nice + system + irq + softirq + steal }

        /// Parses the aggregate `cpu` line (not `cpu0`, `cpu1`...) of a /proc/stat text; nil when it has none,
        /// or fewer than the four fields every kernel prints (user nice system idle), or a field is not a number.
        init?(procStat text: String) {
            guard
                let line = text.split(separator: "\n").first(where: {
                    $0.hasPrefix("cpu ") || $0.hasPrefix("cpu\t")
                })
            else { return nil }
            let numbers = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().map { Int64($0) }
            guard numbers.count >= 4, !numbers.contains(nil) else { return nil }
            let fields = numbers.map { $0! } + Array(repeating: 0, count: max(0, 8 - numbers.count))
            (user, nice, system, idle) = (fields[0], fields[1], fields[2], fields[3])
            (iowait, irq, softirq, steal) = (fields[4], fields[5], fields[6], fields[7])
        }

        init(
            user: Int64, nice: Int64, system: Int64, idle: Int64, iowait: Int64, irq: Int64, softirq: Int64,
            steal: Int64
        ) {
            (self.user, self.nice, self.system, self.idle) = (user, nice, system, idle)
            (self.iowait, self.irq, self.softirq, self.steal) = (iowait, irq, softirq, steal)
        }
    }

    /// The machine's CPU counters now, or nil where /proc/stat is unreadable (not Linux).
    static func machineSnapshot(procStat path: String = "/proc/stat") -> MachineSnapshot? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let ticks = MachineTicks(procStat: text)
        else { return nil }
        return MachineSnapshot(ticks: ticks, instant: .now)
    }

    /// Clock ticks per second of /proc's counters (USER_HZ).
    static var ticksPerSecond: Double { Double(sysconf(Int32(_SC_CLK_TCK))) }

    /// CPUs online now.
    static var cpusOnline: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}
