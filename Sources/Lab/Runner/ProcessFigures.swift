import Foundation

/// CPU and peak-memory readings of a process from /proc (Linux), usable for this process and for the
/// mock server's. The peak (VmHWM) can be reset, so each cell gets its own peak.
enum ProcessFigures {
    /// User and system CPU seconds of `pid` (default: this process), or nil where /proc is missing.
    static func cpuSeconds(pid: Int32? = nil) -> (user: Double, sys: Double)? {
        let path = "/proc/\(pid.map(String.init) ?? "self")/stat"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name: state is field 3, utime 14 and stime 15 (1-based).
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let sys = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (user / ticks, sys / ticks)
    }

    /// Peak resident set size of `pid` since the last reset, in bytes, or nil where /proc is missing.
    static func peakRSSBytes(pid: Int32? = nil) -> Int64? {
        let path = "/proc/\(pid.map(String.init) ?? "self")/status"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let number = line.split(separator: " ").dropFirst().first.flatMap { Int64($0) }
            return number.map { $0 * 1024 }
        }
        return nil
    }

    /// Resets the peak RSS of `pid` to its current RSS (Linux `clear_refs` value 5). Best effort.
    static func resetPeakRSS(pid: Int32? = nil) {
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
}
