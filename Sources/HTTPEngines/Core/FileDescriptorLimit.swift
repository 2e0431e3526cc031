#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process's open-file limit (RLIMIT_NOFILE), raised in-process for high-concurrency runs.
public enum FileDescriptorLimit {
    /// The current soft and hard limits.
    public static func current() -> (soft: Int, hard: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (0, 0) }
        return (Int(clamping: limit.rlim_cur), Int(clamping: limit.rlim_max))
    }

    /// Raises the soft limit to the hard limit when it is below `needed` descriptors.
    /// - Throws: `FileDescriptorLimitError` when the hard limit is below `needed` or the OS refuses.
    public static func raise(toAtLeast needed: Int) throws(FileDescriptorLimitError) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            throw FileDescriptorLimitError(needed: needed, soft: 0, hard: 0, errno: errno)
        }
        if Int(clamping: limit.rlim_cur) >= needed { return }
        let hard = Int(clamping: limit.rlim_max)
        guard hard >= needed else {
            throw FileDescriptorLimitError(needed: needed, soft: Int(clamping: limit.rlim_cur), hard: hard, errno: 0)
        }
        limit.rlim_cur = limit.rlim_max
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            throw FileDescriptorLimitError(
                needed: needed, soft: Int(clamping: limit.rlim_cur), hard: hard, errno: errno)
        }
    }
}

/// The OS would not allow enough open files for the requested concurrency.
public struct FileDescriptorLimitError: Error, CustomStringConvertible, Sendable {
    /// Descriptors the run needs.
    public let needed: Int
    /// The soft limit when the raise was attempted.
    public let soft: Int
    /// The hard limit.
    public let hard: Int
    /// The errno of a failed getrlimit/setrlimit, or 0.
    public let errno: Int32

    /// What went wrong and how to fix it.
    public var description: String {
        "RLIMIT_NOFILE: the run needs \(needed) open files but the limit is \(soft) (hard \(hard))"
            + (errno != 0 ? ", setrlimit failed with errno \(errno)" : "")
            + "; raise the hard limit (ulimit -Hn \(needed), or LimitNOFILE= in systemd) or lower the concurrency"
    }
}
