#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process's resource use from `getrusage(RUSAGE_SELF)`. Diff two readings to get one cell's use.
public struct ResourceUsage: Sendable, Hashable, Codable {
    /// User CPU time, in seconds.
    public var userCPUSeconds: Double
    /// System CPU time, in seconds.
    public var systemCPUSeconds: Double
    /// Peak resident set size of the process so far, in bytes (a high-water mark: not diffable).
    public var maxRSSBytes: Int64
    /// Voluntary context switches.
    public var voluntaryContextSwitches: Int64
    /// Involuntary context switches.
    public var involuntaryContextSwitches: Int64

    /// Creates a reading.
    public init(
        userCPUSeconds: Double, systemCPUSeconds: Double, maxRSSBytes: Int64, voluntaryContextSwitches: Int64,
        involuntaryContextSwitches: Int64
    ) {
        self.userCPUSeconds = userCPUSeconds
        self.systemCPUSeconds = systemCPUSeconds
        self.maxRSSBytes = maxRSSBytes
        self.voluntaryContextSwitches = voluntaryContextSwitches
        self.involuntaryContextSwitches = involuntaryContextSwitches
    }

    /// Reads the calling process's usage now.
    public static func current() -> ResourceUsage {
        var usage = rusage()
        _ = getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        #if canImport(Darwin)
            let rssBytes = Int64(usage.ru_maxrss)  // bytes on Darwin
        #else
            let rssBytes = Int64(usage.ru_maxrss) * 1024  // KiB on Linux
        #endif
        return ResourceUsage(
            userCPUSeconds: seconds(usage.ru_utime), systemCPUSeconds: seconds(usage.ru_stime),
            maxRSSBytes: rssBytes, voluntaryContextSwitches: Int64(usage.ru_nvcsw),
            involuntaryContextSwitches: Int64(usage.ru_nivcsw))
    }

    /// The use between `earlier` and this reading; `maxRSSBytes` stays this reading's peak.
    public func since(_ earlier: ResourceUsage) -> ResourceUsage {
        ResourceUsage(
            userCPUSeconds: userCPUSeconds - earlier.userCPUSeconds,
            systemCPUSeconds: systemCPUSeconds - earlier.systemCPUSeconds, maxRSSBytes: maxRSSBytes,
            voluntaryContextSwitches: voluntaryContextSwitches - earlier.voluntaryContextSwitches,
            involuntaryContextSwitches: involuntaryContextSwitches - earlier.involuntaryContextSwitches)
    }

    /// Total CPU time (user plus system), in seconds.
    public var cpuSeconds: Double { userCPUSeconds + systemCPUSeconds }
}
